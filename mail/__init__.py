"""The e-mail support address: mail in (an SMTP listener, an IMAP fetcher) filed onto tickets."""
