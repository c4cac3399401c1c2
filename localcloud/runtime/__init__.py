"""A local FunctionGraph runtime: the context object handlers receive, and (later) invocation."""

from .context import FunctionContext

__all__ = ["FunctionContext"]
