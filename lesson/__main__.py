"""``python -m lesson``: write one lesson as one self-contained HTML file.

Examples::

    python -m lesson --preset "Wallet (text)" --out wallet.html
    python -m lesson --text "The keys I lost in May were in my coat" --cell gru --H 32
    python -m lesson --numbers "1 0 0 0 0 0 0 0 0 0" --seed 3 --out impulse.html
    python -m lesson --preset "Wallet (text)" --notation dlai --out wallet_dlai.html

Bad input ends with a one-line error and exit code 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine import CELLS, InputError
from engine.inputs import PRESETS
from figures.notation import GRU_RESET, LABELS, NOTATIONS

from .build import build_html
from .settings import APP_URL, DEFAULT, MAX_H, MAX_T, MEASURES, Settings, replace


def _int_in(lo: int, hi: int):
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is not between {lo} and {hi}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lesson",
        description="Write one gatescope lesson as one self-contained HTML file (works offline).",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        metavar="NAME",
        help=f"a lesson preset: {', '.join(PRESETS)} (default: {DEFAULT.preset})",
    )
    src.add_argument("--text", metavar="TEXT", help="your own sentence, one word per step")
    src.add_argument(
        "--numbers",
        metavar="NUMBERS",
        help="your own numbers, one per step ('1 2; 3 4' for two features)",
    )
    p.add_argument(
        "--cell",
        choices=CELLS,
        default=DEFAULT.cell,
        help="the cell Gates over time shows (Step through shows all three)",
    )
    p.add_argument("--H", type=_int_in(1, MAX_H), default=DEFAULT.H, help="hidden units")
    p.add_argument(
        "--seed",
        type=_int_in(0, 2**31 - 1),
        default=DEFAULT.seed,
        help="seed of the weights (and of generated inputs)",
    )
    p.add_argument(
        "--T",
        type=_int_in(1, MAX_T),
        default=DEFAULT.T,
        help="steps: numeric presets are generated this long, text is cut to it",
    )
    p.add_argument(
        "--unit",
        type=_int_in(0, MAX_H - 1),
        default=DEFAULT.unit,
        help="the unit k the equations show",
    )
    p.add_argument(
        "--measure",
        choices=MEASURES,
        default=DEFAULT.measure,
        help="the gradient measure of the comparison (x, h or bptt)",
    )
    p.add_argument(
        "--notation",
        choices=NOTATIONS,
        default=DEFAULT.notation,
        help="the symbols: "
        + ", ".join(f"{n} ({LABELS[n]})" for n in NOTATIONS)
        + f" (default {DEFAULT.notation}); the GRU of "
        + " and ".join(n for n in NOTATIONS if GRU_RESET[n] == "before")
        + " is the reset-before model (Cho 2014), a different model from PyTorch's",
    )
    p.add_argument("--app-url", default=APP_URL, help=f"the live app (default {APP_URL})")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("gatescope_lesson.html"),
        metavar="FILE.html",
        help="where to write the file (default gatescope_lesson.html)",
    )
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    """The lesson the arguments describe (validated: InputError on a bad combination)."""
    changes = {"cell": args.cell, "H": args.H, "seed": args.seed, "T": args.T,
               "unit": args.unit, "measure": args.measure, "notation": args.notation}  # fmt: skip
    if args.text is not None:
        changes |= {"source": "text", "text": args.text}
    elif args.numbers is not None:
        changes |= {"source": "numbers", "numbers": args.numbers}
    elif args.preset is not None:
        changes |= {"source": "preset", "preset": args.preset}
    return replace(DEFAULT, **changes)


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.app_url.startswith(("http://", "https://")):
        p.error(f"--app-url must start with http:// or https://, not {args.app_url!r}")
    if not args.out.parent.is_dir():
        p.error(f"--out: the folder {str(args.out.parent)!r} does not exist")
    try:
        page = build_html(settings_from(args), app_url=args.app_url)
    except InputError as err:
        p.error(str(err))
    try:
        args.out.write_text(page, encoding="utf-8")
    except OSError as err:
        p.error(f"--out: cannot write {str(args.out)!r}: {err.strerror}")
    print(f"wrote {args.out} ({len(page.encode()) / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
