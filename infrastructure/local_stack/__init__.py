"""The embedded local stack: moto in-process, provisioned from template.yaml."""
