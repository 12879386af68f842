"""bekal: rules-based eligibility and matching for post-rehabilitation vocational training."""

__version__ = "0.1.0"
