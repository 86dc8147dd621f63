"""A local stand-in for Clerk: its Backend API, its session tokens and its Svix-signed webhooks."""
