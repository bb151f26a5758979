"""cavra-drill: rehearse CAVRA's Go-to-Python rollback and produce the evidence its gate reads."""

__version__ = "0.1.0"
