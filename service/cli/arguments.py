"""Argument types the commands share, refused at parse time (exit 2) with the argument's name:
a model name unless it is in the one form (service/modelname.py), naming the character at fault
and the form expected; a path that must already exist unless it does, naming what was expected
and what is there instead."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from service.modelname import RULE, name_problem


def model_name(value: str) -> str:
    """`value` as a model name, for argparse's `type=`."""
    problem = name_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{problem}; {RULE}")
    return value


def existing_directory(value: str) -> Path:
    """`value` as a directory that exists, for argparse's `type=`."""
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"expected a directory; {_found(path)}")
    return path


def existing_file(value: str) -> Path:
    """`value` as a file that exists, for argparse's `type=` ('-', standard input, passes)."""
    path = Path(value)
    if value != "-" and not path.is_file():
        raise argparse.ArgumentTypeError(f"expected a file; {_found(path)}")
    return path


def existing_path(value: str) -> Path:
    """`value` as a file or a directory that exists, for argparse's `type=`."""
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"expected a file or a directory; {_found(path)}")
    return path


def executable(value: str) -> str:
    """`value` as a program: a path to an executable file, or a name on PATH (as
    shutil.which finds it), for argparse's `type=`."""
    if shutil.which(value) is None:
        path = Path(value)
        found = (
            f"{path} is not executable"
            if path.is_file()
            else f"no program {value} on PATH"
            if path.name == value
            else _found(path)
        )
        raise argparse.ArgumentTypeError(f"expected an executable program; {found}")
    return value


def _found(path: Path) -> str:
    if path.is_dir():
        return f"{path} is a directory"
    if path.is_file():
        return f"{path} is a file"
    if path.exists():
        return f"{path} is neither a file nor a directory"
    return f"{path} does not exist"
