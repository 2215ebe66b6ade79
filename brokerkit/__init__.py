"""Broker onboarding: connection kits and the connection test brokers run from their side."""
