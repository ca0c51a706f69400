"""The public, anonymous survey form."""
