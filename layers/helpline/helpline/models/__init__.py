"""Pydantic models: what the API accepts and returns, and what the tables and queues hold."""
