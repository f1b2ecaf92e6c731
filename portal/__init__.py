"""The customer portal (`/support`, contract §9): customers and partners sign in with a one-time link,
log tickets and follow theirs."""
