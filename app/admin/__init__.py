"""The office head's pages: login, campaigns, exports."""
