"""Enact: what a durable allow may change outside mlgate (the registry's aliases)."""
