"""Suggested replies for customer-service agents, grounded in the catalog and the shop's
policies (`AgentAssistant.suggest`)."""
