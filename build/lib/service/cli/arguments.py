"""Argument types the commands share: a model name is refused at parse time (exit 2) unless it is
in the one form (service/modelname.py), naming the character at fault and the form expected."""

from __future__ import annotations

import argparse

from service.modelname import RULE, name_problem


def model_name(value: str) -> str:
    """`value` as a model name, for argparse's `type=`."""
    problem = name_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{problem}; {RULE}")
    return value
