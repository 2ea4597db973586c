"""Sizes a worked solution can still show; beyond them the answer is a wall of numbers."""

from derive.errors import InputError

MAX_TOKENS = 16
MAX_DIM = 16
MAX_POSITIONS = 64
MAX_D_MODEL = 64


def check_shape(option: str, matrix, rows: int = MAX_TOKENS, cols: int = MAX_DIM) -> None:
    if matrix.rows > rows or matrix.cols > cols:
        raise InputError(
            option,
            f"{matrix.rows}×{matrix.cols} is too large for a worked solution (at most {rows}×{cols})",
        )
