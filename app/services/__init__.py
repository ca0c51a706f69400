"""Write paths and queries that views and CLI commands call; views stay thin."""
