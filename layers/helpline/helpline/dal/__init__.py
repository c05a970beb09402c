"""Adapters: the only modules that talk to AWS (boto3); the domain sees them via `logic.ports`."""
