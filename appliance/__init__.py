"""appliance: a self-hosted, single-host PaaS."""

__version__ = "0.1.0"
