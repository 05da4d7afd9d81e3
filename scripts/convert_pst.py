"""Regenerate the bundled PST cases (cases/<name>.toml) from the PST data files.

Usage::

    python scripts/convert_pst.py [PST_FOLDER] [--out cases]

PST_FOLDER defaults to the repository's copy, tests/data/pst. The conversion is
:func:`gridcoherence.cases.pst.pst_case_document`; the MIT licence of the PST archive is copied
to cases/LICENSE-PST with an attribution header, and every converted file names it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gridcoherence._io import atomic_write
from gridcoherence.cases.pst import PST_CASES, pst_case_document

ATTRIBUTION = """The files {files} in this folder are derived from the Power System Toolbox (PST)
data archive as distributed in Sandia's PSTess (https://github.com/sandialabs/snl-pst;
PST by Joe Chow, Graham Rogers and contributors). They were converted to the gridcoherence
case format by scripts/convert_pst.py. The licence of the original data follows.

"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pst_folder", nargs="?", type=Path,
                        default=Path(__file__).resolve().parents[1] / "tests" / "data" / "pst")
    parser.add_argument("--out", default=Path(__file__).resolve().parents[1] / "cases", type=Path)
    args = parser.parse_args(argv)
    written = []
    for name, (file, frequency, description) in PST_CASES.items():
        text = pst_case_document(args.pst_folder / file, name, frequency, description)
        with atomic_write(args.out / f"{name}.toml") as handle:
            handle.write(text)
        written.append(f"{name}.toml")
    licence = (args.pst_folder / "LICENSE").read_text(encoding="utf-8")
    with atomic_write(args.out / "LICENSE-PST") as handle:
        handle.write(ATTRIBUTION.format(files=", ".join(written)) + licence)
    print("wrote", ", ".join(written), "and LICENSE-PST to", args.out)


if __name__ == "__main__":
    main()
