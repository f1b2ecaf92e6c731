"""Who asks for support: organisations (customers and the partners who manage some of them) and their people."""
