"""The learner's own table: a CSV file of numeric feature columns and one label column, read with the
standard csv module, checked cell by cell, split into training and test parts and standardised.

Every problem is a ValueError (FileNotFoundError for a missing file, TypeError for a wrong argument
type) whose message names the file, the line, the column, what was expected, what was found and how
to fix it, e.g. `data.csv line 7, column 'petal_width': expected a number, got 'abc'. ...`.
Line numbers are the file's own (the header is line 1), so an editor can jump straight to them.

Choices, so nothing happens behind the learner's back:
- Blank lines (and lines of empty cells, as spreadsheets export them) are skipped; an empty cell
  anywhere else is an error. Missing values are never guessed.
- A label cell that is empty or a missing-value marker (?, NA, N/A, NaN, null) is a missing label.
- Numeric class labels are ordered by value (2 before 10), other labels alphabetically; class k is
  `class_names[k]`.
- Standardisation uses the mean and standard deviation of the *training* part only, so nothing
  about the test rows leaks into training. A feature that is constant in the training part is
  centred but not scaled (its std is stored as 1, there is nothing to divide by); it is listed in
  `constant_features` and explained in `notes`.
"""

import codecs
import csv
import difflib
import math
import re
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learnscope.core.dtype import get_default_dtype
from learnscope.core.validation import check_array, check_choice, check_finite, check_range
from learnscope.data.splits import train_test_split

#: Files above this size are refused before reading a byte, so a huge file cannot hang the lab.
MAX_CSV_BYTES = 200 * 2**20
#: Fewer data rows than this cannot give a meaningful training and test part.
MIN_ROWS = 10
#: Label cells that mean "missing" (compared case-insensitively, after stripping spaces).
MISSING_MARKERS = frozenset({"", "?", "na", "n/a", "nan", "null"})

_SIGNATURES = (        # leading bytes of common files that are not CSV text -> what they are
    (codecs.BOM_UTF16_LE, "UTF-16 text (Excel's 'Unicode Text')"),
    (codecs.BOM_UTF16_BE, "UTF-16 text"),
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
_SAVE_AS_CSV = "Open it in a spreadsheet and save or export it as 'CSV UTF-8 (comma-separated)', then load that file."


@dataclass(frozen=True, eq=False)
class TableData:
    """A CSV table ready for training: x_* (N, F) float32 standardised features, y_* int64 class indices (N,)
    or float32 targets (N, 1); class k is class_names[k]; transform() prepares new raw rows the same way."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]        # empty for regression
    mean: np.ndarray                    # (F,) float64, of the training part; zeros if standardize=False
    std: np.ndarray                     # (F,) float64, of the training part; 1 for constant features
    label_name: str
    task: str                           # "classification" or "regression"
    constant_features: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()         # things the learner should know, e.g. constant features

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def transform(self, x_raw) -> np.ndarray:
        """Standardise raw feature rows with the training mean and std.   (N, F) or (F,) -> same shape, float32"""
        owner = "TableData.transform"
        x = check_array(x_raw, "x_raw", owner, ndim=(1, 2), dtype=np.float64,
                        hint=f"Pass rows of the {self.n_features} feature values.")
        if x.shape[-1] != self.n_features:
            raise ValueError(
                f"{owner} expected {self.n_features} feature values per row ({', '.join(self.feature_names)}), "
                f"got {x.shape[-1]} (shape {x.shape}). Pass the raw feature columns in the file's order, "
                "without the label."
            )
        check_finite(x, "x_raw", owner, hint="Fill in the missing values first.")
        return ((x - self.mean) / self.std).astype(get_default_dtype())


def load_csv(path, label, header="auto", standardize: bool = True, test_fraction: float = 0.2, seed=0,
             task: str = "classification", delimiter: str = ",") -> TableData:
    """Read a CSV of numeric features and one label column, split it (stratified for classes) and standardise.
    file -> TableData(x_train (N_train, F), y_train, x_test (N_test, F), y_test, ...)

    label: the label column's name (needs a header) or index (negative counts from the right, -1 = last).
    header: "auto" (the first row is a header if a feature cell in it is not a number), True or False.
    test_fraction: share held out for testing, in [0, 1); 0 keeps every row for training.
    task: "classification" (labels may be words or integers) or "regression" (numeric float targets)."""
    owner = "load_csv"
    task = check_choice(task, "task", owner, ("classification", "regression"))
    if header not in ("auto", True, False):
        raise ValueError(f"{owner} expected header to be 'auto', True or False, got {header!r}. "
                         "Use 'auto' unless the detection guesses wrong.")
    if isinstance(label, bool) or not isinstance(label, (str, int, np.integer)):
        raise TypeError(f"{owner} expected label to be a column name (str) or index (int), got {label!r}. "
                        "Pass e.g. label='species' or label=-1 for the last column.")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"{owner} expected delimiter to be one character, got {delimiter!r}. Pass e.g. ';' or '\\t'.")
    test_fraction = check_range(test_fraction, "test_fraction", owner, minimum=0, maximum=1, inclusive=(True, False),
                                fix="Pass the share of rows to hold out for testing, e.g. test_fraction=0.2.")

    path = Path(path)
    x_all, raw_labels, line_numbers, feature_names, label_name = _read_table(path, label, header, delimiter)
    classification = task == "classification"
    if classification:
        y_all, class_names = _encode_classes(raw_labels, line_numbers, path, label_name, test_fraction)
    else:
        y_all, class_names = _parse_targets(raw_labels, line_numbers, path, label_name), ()
    if len(y_all) < MIN_ROWS:
        raise ValueError(f"{path} has {len(y_all)} data row(s); load_csv needs at least {MIN_ROWS} "
                         "(some to train on, some to test on). Add rows to the file.")

    if test_fraction > 0:
        try:
            x_train, x_test, y_train, y_test = train_test_split(
                x_all, y_all, test_fraction=test_fraction, seed=seed, stratify=classification)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from err
    else:
        x_train, x_test, y_train, y_test = x_all, x_all[:0], y_all, y_all[:0]

    constant = np.ptp(x_train, axis=0) == 0              # exact test: a float mean of equal values may not be exact
    if standardize:
        mean = np.where(constant, x_train[0], x_train.mean(axis=0))   # so a constant column becomes exactly 0
        std = np.where(constant, 1.0, x_train.std(axis=0))
    else:
        mean, std = np.zeros(x_train.shape[1]), np.ones(x_train.shape[1])
    constant_features = tuple(name for name, flag in zip(feature_names, constant) if flag)
    notes = tuple(
        f"Feature {name!r} has the same value ({x_train[0, j]:g}) in every training row, so it carries no "
        + ("information; it was centred to 0 but not scaled (there is no spread to divide by). " if standardize
           else "information. ")
        + "Consider removing the column."
        for j, name in enumerate(feature_names) if constant[j]
    )
    dtype = get_default_dtype()
    return TableData(
        x_train=((x_train - mean) / std).astype(dtype), y_train=y_train,
        x_test=((x_test - mean) / std).astype(dtype), y_test=y_test,
        feature_names=tuple(feature_names), class_names=class_names, mean=mean, std=std,
        label_name=label_name, task=task, constant_features=constant_features, notes=notes,
    )


# ---- reading ----


def _read_table(path: Path, label, header, delimiter: str):
    """Stream the file once: (x float64 (N, F), raw label strings, line numbers, feature names, label name)."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise FileNotFoundError(f"load_csv expected a CSV file at {path}, but it is {what}. "
                                "Check the path (relative paths start from the current folder).")
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise ValueError(
            f"{path} is {size / 2**20:.0f} MB; load_csv reads at most {MAX_CSV_BYTES / 2**20:.0f} MB so the lab "
            "stays responsive. Use a sample of the rows (e.g. the first 100,000) or fewer columns."
        )
    with open(path, "rb") as stream:
        _check_is_text(stream.read(1 << 16), path)
    try:
        # NOTE: utf-8-sig drops the byte-order mark Excel's "CSV UTF-8" starts with; newline="" is what csv wants
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return _parse(path, stream, label, header, delimiter)
    except UnicodeDecodeError:
        _raise_not_utf8(path)


def _parse(path: Path, stream, label, header, delimiter: str):
    """Header, label column, then every data row; see _read_table for what it returns."""
    records = _records(path, stream, delimiter)
    first = next(records, None)
    if first is None:
        raise ValueError(f"{path} is empty: expected a header row (optional) and at least {MIN_ROWS} data rows, "
                         "got no rows at all. Check that you saved the right file.")
    first_line, first_cells = first[0], [cell.strip() for cell in first[1]]
    width = len(first_cells)
    if width < 2:
        raise ValueError(
            f"{path} line {first_line} has a single column; load_csv needs at least one feature column and a "
            f"label column, separated by {delimiter!r}.{_delimiter_hint(first_cells[0], delimiter)}"
        )
    has_header = _detect_header(path, first_line, first_cells, label, header)
    names = [cell or f"column {i + 1}" for i, cell in enumerate(first_cells)] if has_header \
        else [f"column {i + 1}" for i in range(width)]
    shown = [repr(name) for name in names] if has_header else names          # for lists of columns
    where = [f"column {name}" for name in shown] if has_header else names     # "column 'x'" or "column 3"
    label_index = _resolve_label(path, label, names, shown, has_header)
    feature_index = [i for i in range(width) if i != label_index]

    features, labels, line_numbers = array("d"), [], array("q")
    for line, cells in (records if has_header else _chain_first(first, records)):
        if len(cells) != width:
            reference = "the header has" if has_header else f"the first row (line {first_line}) has"
            raise ValueError(
                f"{path} line {line} has {len(cells)} cells, {reference} {width}. Every row needs one value per "
                f"column: look for a missing or extra {delimiter!r} on that line (a value that contains "
                f"{delimiter!r} must be wrapped in double quotes)."
            )
        try:
            features.extend([float(cells[i]) for i in feature_index])
        except ValueError:
            _raise_bad_cell(path, line, cells, feature_index, where)
        labels.append(cells[label_index].strip())
        line_numbers.append(line)

    x = np.frombuffer(features, dtype=np.float64).reshape(len(labels), len(feature_index)).copy()
    if not np.isfinite(x).all():
        row, col = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"{path} line {line_numbers[row]}, {where[feature_index[col]]}: expected a finite number, got "
            f"{float(x[row, col])}. Fill in a real value or delete the row; load_csv does not guess missing values."
        )
    return x, labels, line_numbers, [names[i] for i in feature_index], names[label_index]


def _check_is_text(head: bytes, path: Path) -> None:
    """Refuse binary files (spreadsheets, archives, images) by their first bytes, before parsing."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise ValueError(f"{path} is not a CSV text file: it looks like {what}. {_SAVE_AS_CSV}")
    if b"\x00" in head:
        raise ValueError(f"{path} is not a CSV text file: it holds NUL bytes, as binary files do. {_SAVE_AS_CSV}")


def _records(path: Path, stream, delimiter: str):
    """Yield (line number, cells) for every non-blank CSV record; the line is where the record ends.
    Cells keep their surrounding spaces: float() ignores them, and stripping every cell costs time."""
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ValueError(
                f"{path} line {reader.line_num}: not valid CSV ({err}). Check the quotes on that line: a value "
                f"containing {delimiter!r} goes inside double quotes, and a quote inside such a value is doubled "
                '("").'
            ) from err
        if any(cell and not cell.isspace() for cell in cells):     # NOTE: spreadsheets export empty rows as ",,,"
            yield reader.line_num, cells


def _raise_not_utf8(path: Path):
    """Find the first line that is not UTF-8 (a second, byte-level pass, only when decoding failed) and explain."""
    with open(path, "rb") as stream:
        for number, raw_line in enumerate(stream, start=1):
            try:
                raw_line.decode("utf-8")
            except UnicodeDecodeError as err:
                bad = raw_line[err.start:err.start + 1].hex()
                raise ValueError(
                    f"{path} line {number}: expected UTF-8 text, got byte 0x{bad} (byte {err.start + 1} of the "
                    "line), which is not valid UTF-8 (the file was probably saved as Latin-1 or Windows-1252). "
                    "Save it as 'CSV UTF-8', or fix that character."
                ) from None
    raise ValueError(f"{path} is not valid UTF-8 text. Save it as 'CSV UTF-8'.")   # pragma: no cover


def _chain_first(first, records):
    yield first
    yield from records


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _detect_header(path: Path, line: int, cells: list[str], label, header) -> bool:
    """header='auto': the first row is a header when one of its feature cells is text (not empty, not a number)."""
    all_numbers = all(_is_number(cell) for cell in cells if cell)
    if isinstance(label, str):
        if header is False or (header == "auto" and all_numbers):
            why = "header=False" if header is False else f"its first row (line {line}) holds only numbers"
            raise ValueError(
                f"load_csv was given label={label!r}, a column name, but {path} has no header row ({why}). "
                "Pass the label column by index instead (e.g. label=-1 for the last column), or add a header row."
            )
        return True
    if header != "auto":
        return bool(header)
    skip = int(label) % len(cells) if -len(cells) <= label < len(cells) else None   # range is checked later
    return any(cell and not _is_number(cell) for i, cell in enumerate(cells) if i != skip)


def _resolve_label(path: Path, label, names: list[str], shown: list[str], has_header: bool) -> int:
    """The label column's index, from a name or a (possibly negative) index."""
    width = len(names)
    listing = ", ".join(f"{i}: {name}" for i, name in enumerate(shown[:30])) + (" ..." if width > 30 else "")
    if isinstance(label, str):
        matches = [i for i, name in enumerate(names) if name == label.strip()]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValueError(f"{path} has {len(matches)} columns named {label!r} (indices {matches}). "
                             "Pass the label column by index, or rename one of them.")
        close = difflib.get_close_matches(label, names, n=1) or \
            [name for name in names if name.lower() == label.strip().lower()]
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        if any(_is_number(name) for name in names):
            suggestion += (" Its first row holds numbers, so it may be data rather than a header: if the file has "
                           "none, pass the label column by index (e.g. label=-1 for the last column).")
        raise ValueError(f"{path} has no column named {label!r}; its columns are {listing}.{suggestion} "
                         "Pass one of these names, or the column's index.")
    if not -width <= label < width:
        raise ValueError(f"load_csv was given label={label}, but {path} has {width} columns (indices 0..{width - 1}, "
                         f"or -{width}..-1 from the right): {listing}. Pass one of these indices.")
    return int(label) % width


def _raise_bad_cell(path: Path, line: int, cells: list[str], feature_index: list[int], where: list[str]):
    """Find the first feature cell on this row that is not a number and explain it."""
    for i in feature_index:
        cell = cells[i].strip()
        if _is_number(cell):
            continue
        at = f"{path} line {line}, {where[i]}"
        if not cell:
            raise ValueError(f"{at}: expected a number, got an empty cell (a missing value). Fill it in or delete "
                             "the row; load_csv does not guess missing values.")
        if cell.lower() in MISSING_MARKERS:
            hint = f"{cell!r} marks a missing value. Fill it in or delete the row; load_csv does not guess them."
        elif re.fullmatch(r"[-+]?\d+,\d+", cell):
            hint = ("Write decimals with a dot (3.5, not 3,5), or pass delimiter=';' (--delimiter ';') if the file "
                    "separates cells by ';'.")
        else:
            hint = ("Fix that cell or delete the row; if the whole column is text (a name, an id, a category), "
                    "remove it from the file or make it the label.")
        raise ValueError(f"{at}: expected a number, got {cell!r}. {hint}")
    raise AssertionError("unreachable: a cell failed float() but every cell parses")  # pragma: no cover


def _delimiter_hint(cell: str, delimiter: str) -> str:
    for other, name in ((";", "';'"), ("\t", "'\\t'"), ("|", "'|'"), (",", "','")):
        if other != delimiter and other in cell:
            return f" Its cells seem separated by {name}: pass delimiter={name} (--delimiter {name})."
    return " Add the missing columns."


# ---- labels ----


def _check_no_missing_labels(raw: list[str], lines, path: Path, label_name: str) -> None:
    for row, value in enumerate(raw):
        if value.lower() in MISSING_MARKERS:
            found = "an empty cell" if not value else f"{value!r}, which marks a missing value"
            raise ValueError(f"{path} line {lines[row]}, column {label_name!r}: missing label (got {found}). "
                             "Fill in the label or delete the row.")


def _encode_classes(raw: list[str], lines, path: Path, label_name: str, test_fraction: float):
    """Map label strings to 0..K-1: numeric labels by value (so '2' < '10'), others alphabetically."""
    _check_no_missing_labels(raw, lines, path, label_name)
    distinct = sorted(set(raw))
    values = {}
    for text in distinct:
        try:
            values[text] = float(text)
        except ValueError:
            values = None
            break
    if values is not None and all(math.isfinite(v) for v in values.values()):
        # numeric: '1' and '1.0' are the same class; names drop a needless '.0'
        ordered = sorted(set(values.values()))
        names = tuple(str(int(v)) if v.is_integer() else repr(v) for v in ordered)
        code_of_value = {v: k for k, v in enumerate(ordered)}
        code_of = {text: code_of_value[v] for text, v in values.items()}
    else:
        names = tuple(distinct)
        code_of = {text: k for k, text in enumerate(distinct)}
    y = np.fromiter((code_of[text] for text in raw), dtype=np.int64, count=len(raw))
    n_rows, n_classes = len(raw), len(names)
    if n_rows < MIN_ROWS:
        return y, names                                  # load_csv reports too few rows
    if n_classes == 1:
        raise ValueError(f"{path}: the label column {label_name!r} holds a single class ({names[0]!r}) in all "
                         f"{n_rows} rows; classification needs at least 2 classes. Check that you picked the right "
                         "label column.")
    measured = (f" If {label_name!r} is a measured quantity rather than a category, pass task='regression' "
                "(--task regression)." if values is not None else "")
    needed = max(MIN_ROWS, 2 * n_classes)
    if n_rows < needed:
        raise ValueError(
            f"{path} has {n_rows} data rows for {n_classes} classes of {label_name!r}; at least {needed} are needed "
            f"(2 per class, one to train on and one to test on). Add rows.{measured}"
        )
    if test_fraction > 0:
        counts = Counter(y.tolist())
        lonely = next((k for k in range(n_classes) if counts[k] < 2), None)
        if lonely is not None:
            line = lines[int(np.flatnonzero(y == lonely)[0])]
            raise ValueError(
                f"{path}: class {names[lonely]!r} of {label_name!r} appears in a single row (line {line}); every class "
                "needs at least 2 rows so both the training and the test part can hold it. Add rows of that class "
                f"or delete that row.{measured}"
            )
    return y, names


def _parse_targets(raw: list[str], lines, path: Path, label_name: str) -> np.ndarray:
    """Regression targets: every label cell a finite number.   -> (N, 1) float32"""
    _check_no_missing_labels(raw, lines, path, label_name)
    targets = np.empty(len(raw))
    for row, text in enumerate(raw):
        try:
            targets[row] = float(text)
        except ValueError:
            targets[row] = np.nan
        if not math.isfinite(targets[row]):
            raise ValueError(
                f"{path} line {lines[row]}, column {label_name!r}: expected a number as the regression target, got "
                f"{text!r}. Fix the cell, or pass task='classification' (--task classification) if the label names "
                "classes."
            )
    return targets.reshape(-1, 1).astype(get_default_dtype())
