"""Settings for every test run: no real AWS, no X-Ray, a fixed region.

Set at import, before any test module imports a handler (Powertools reads some of these once).
The credentials are dummies so that nothing can reach a real account even if a mock is missing.
"""

from __future__ import annotations

import os

os.environ["POWERTOOLS_TRACE_DISABLED"] = "1"
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "helpline")
os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_SECURITY_TOKEN"] = "testing"
os.environ["AWS_SESSION_TOKEN"] = "testing"
