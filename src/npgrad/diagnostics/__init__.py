"""Checks and diagnostics: gradient checking now; training-health checks and summaries later."""

from npgrad.diagnostics.gradcheck import GradcheckReport, gradcheck

__all__ = ["GradcheckReport", "gradcheck"]
