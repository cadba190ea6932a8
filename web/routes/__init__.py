"""The web admin's pages, one module per area; each checks web.permissions before it reads or writes."""
