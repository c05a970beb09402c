"""Pure domain functions: no boto3, no environment; adapters come in through `ports`."""
