"""Checks and diagnostics: gradient checking now; training-health checks and summaries later."""

from npgrad.diagnostics.gradcheck import GradcheckReport, gradcheck, gradgradcheck

__all__ = ["GradcheckReport", "gradcheck", "gradgradcheck"]
