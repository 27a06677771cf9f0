"""load_csv on good files (header or not, label by name or index, word or number labels, regression)
and on every kind of bad file, each of which must fail with a message naming the line, the column
and the fix. The files are written into tmp_path by each test."""

import codecs

import numpy as np
import pytest

from learnscope.data import table
from learnscope.data.table import TableData, load_csv

HEADER = "row_id,height,weight,species"


def rows_text(n_rows=20, labels=("cat", "dog")):
    """n_rows data lines: row_id is the row number (so a test can find the row again), labels alternate."""
    return "\n".join(f"{i},{1.5 + 0.25 * i},{(i * 7) % 11}.5,{labels[i % len(labels)]}" for i in range(n_rows))


def raw_rows(n_rows=20):
    """The feature values rows_text writes, as numbers.   -> (n_rows, 3)"""
    i = np.arange(n_rows, dtype=np.float64)
    return np.column_stack([i, 1.5 + 0.25 * i, (i * 7) % 11 + 0.5])


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def load_error(path, error=ValueError, **kwargs) -> str:
    kwargs.setdefault("label", "species")
    with pytest.raises(error) as info:
        load_csv(path, **kwargs)
    return str(info.value)


# ---- good files ----


def test_header_and_label_by_name(tmp_path):
    data = load_csv(write(tmp_path, HEADER + "\n" + rows_text()), label="species", seed=0)
    assert isinstance(data, TableData) and data.task == "classification"
    assert data.feature_names == ("row_id", "height", "weight") and data.label_name == "species"
    assert data.class_names == ("cat", "dog") and data.n_classes == 2 and data.n_features == 3
    assert data.x_train.shape == (16, 3) and data.x_test.shape == (4, 3)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert np.bincount(data.y_test).tolist() == [2, 2]           # stratified
    assert data.constant_features == () and data.notes == ()


def test_labels_match_their_rows(tmp_path):
    data = load_csv(write(tmp_path, HEADER + "\n" + rows_text()), label="species", standardize=False, seed=0)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        np.testing.assert_array_equal(y, x[:, 0].astype(int) % 2)  # row i is cat (0) when i is even


@pytest.mark.parametrize("label", [3, -1, "species"])
def test_label_by_index_negative_index_or_name(tmp_path, label):
    data = load_csv(write(tmp_path, HEADER + "\n" + rows_text()), label=label, seed=0)
    assert data.feature_names == ("row_id", "height", "weight") and data.class_names == ("cat", "dog")


def test_label_in_the_first_column(tmp_path):
    text = "species,row_id,height,weight\n" + "\n".join(f"{'ab'[i % 2]},{i},{i * 2},{i % 3}" for i in range(12))
    data = load_csv(write(tmp_path, text), label=0, seed=0)
    assert data.feature_names == ("row_id", "height", "weight") and data.class_names == ("a", "b")
    data = load_csv(write(tmp_path, text), label=-4, seed=0)
    assert data.label_name == "species"


def test_no_header_is_detected(tmp_path):
    data = load_csv(write(tmp_path, rows_text()), label=-1, seed=0)
    assert data.feature_names == ("column 1", "column 2", "column 3") and data.label_name == "column 4"
    assert len(data.x_train) + len(data.x_test) == 20             # the first row is data, not a header


def test_header_can_be_forced(tmp_path):
    text = "1,2,3,label\n" + rows_text(12, labels=("0", "1"))      # numeric column names fool the detection
    data = load_csv(write(tmp_path, text), label=-1, header=True, seed=0)
    assert data.feature_names == ("1", "2", "3") and data.label_name == "label"
    data = load_csv(write(tmp_path, rows_text(12)), label=-1, header=False, seed=0)
    assert len(data.x_train) + len(data.x_test) == 12


def test_integer_labels_are_ordered_by_value(tmp_path):
    data = load_csv(write(tmp_path, rows_text(30, labels=("10", "2", "1.0"))), label=-1, test_fraction=0, seed=0)
    assert data.class_names == ("1", "2", "10")
    np.testing.assert_array_equal(data.y_train, np.array([2, 1, 0] * 10))


def test_numeric_labels_1_and_1_point_0_are_one_class(tmp_path):
    data = load_csv(write(tmp_path, rows_text(20, labels=("1", "1.0", "0"))), label=-1, test_fraction=0)
    assert data.class_names == ("0", "1")


def test_string_labels_keep_spaces_inside_and_strip_around(tmp_path):
    data = load_csv(write(tmp_path, rows_text(20, labels=(" iris setosa ", "iris virginica"))), label=-1)
    assert data.class_names == ("iris setosa", "iris virginica")


def test_standardisation_uses_the_training_part_only(tmp_path):
    data = load_csv(write(tmp_path, HEADER + "\n" + rows_text(40)), label="species", test_fraction=0.25, seed=3)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1, atol=1e-6)
    raw = raw_rows(40)
    train_ids = np.rint(data.x_train[:, 0] * data.std[0] + data.mean[0]).astype(int)
    test_ids = np.rint(data.x_test[:, 0] * data.std[0] + data.mean[0]).astype(int)
    assert sorted(np.concatenate([train_ids, test_ids]).tolist()) == list(range(40))
    np.testing.assert_allclose(data.mean, raw[train_ids].mean(axis=0))
    np.testing.assert_allclose(data.std, raw[train_ids].std(axis=0))
    assert not np.allclose(data.mean, raw.mean(axis=0))           # all rows would leak the test part
    np.testing.assert_allclose(data.transform(raw[test_ids]), data.x_test, atol=1e-6)
    assert data.transform(raw[test_ids]).dtype == np.float32
    np.testing.assert_allclose(data.transform(raw[test_ids[0]]), data.x_test[0], atol=1e-6)   # a single row


def test_standardize_false_keeps_raw_values(tmp_path):
    data = load_csv(write(tmp_path, HEADER + "\n" + rows_text()), label="species", standardize=False, seed=0)
    ids = data.x_train[:, 0].astype(int)
    np.testing.assert_allclose(data.x_train, raw_rows()[ids])
    np.testing.assert_array_equal(data.mean, 0)
    np.testing.assert_array_equal(data.std, 1)


def test_test_fraction_zero_keeps_every_row_for_training(tmp_path):
    data = load_csv(write(tmp_path, HEADER + "\n" + rows_text()), label="species", test_fraction=0)
    assert data.x_train.shape == (20, 3) and data.x_test.shape == (0, 3) and data.y_test.shape == (0,)


def test_seed_reproduces_the_split(tmp_path):
    path = write(tmp_path, HEADER + "\n" + rows_text(40))
    a, b = load_csv(path, label="species", seed=1), load_csv(path, label="species", seed=1)
    c = load_csv(path, label="species", seed=2)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)


def test_constant_feature_is_centred_not_scaled_and_reported(tmp_path):
    text = "a,flat,label\n" + "\n".join(f"{i},3.1,{i % 2}" for i in range(20))
    data = load_csv(write(tmp_path, text), label="label", seed=0)
    assert data.constant_features == ("flat",)
    assert data.std[1] == 1.0 and np.all(np.isfinite(data.x_train))
    np.testing.assert_array_equal(data.x_train[:, 1], 0)
    assert len(data.notes) == 1 and "'flat'" in data.notes[0] and "not scaled" in data.notes[0]


def test_regression_keeps_float_targets(tmp_path):
    text = "x1,x2,price\n" + "\n".join(f"{i},{i % 4},{2.5 * i}" for i in range(20))
    data = load_csv(write(tmp_path, text), label="price", task="regression", standardize=False, seed=0)
    assert data.task == "regression" and data.class_names == () and data.n_classes == 0
    assert data.y_train.shape == (16, 1) and data.y_train.dtype == np.float32
    np.testing.assert_allclose(data.y_train[:, 0], 2.5 * data.x_train[:, 0])


def test_spreadsheet_quirks_are_accepted(tmp_path):
    """Excel's UTF-8 BOM, Windows line ends, quoted cells, spaces, blank lines and empty ',,,' rows."""
    lines = ['"row_id","height", weight ,species', *rows_text(12, labels=('"cat, black"', "dog")).split("\n")]
    lines[3:3] = ["", ",,,", "   "]
    raw = codecs.BOM_UTF8 + "\r\n".join(lines).encode() + b"\r\n\r\n"
    data = load_csv(write(tmp_path, raw), label="species", seed=0)
    assert data.feature_names == ("row_id", "height", "weight")
    assert data.class_names == ("cat, black", "dog")
    assert len(data.y_train) + len(data.y_test) == 12


def test_old_mac_line_ends(tmp_path):
    data = load_csv(write(tmp_path, (HEADER + "\n" + rows_text()).replace("\n", "\r")), label="species")
    assert len(data.y_train) + len(data.y_test) == 20


def test_other_delimiters(tmp_path):
    text = (HEADER + "\n" + rows_text()).replace(",", ";")
    data = load_csv(write(tmp_path, text), label="species", delimiter=";")
    assert data.n_features == 3


# ---- bad files: each error names the file, line, column, what and the fix ----


def test_missing_file_and_folder(tmp_path):
    message = load_error(tmp_path / "nope.csv", FileNotFoundError)
    assert "nope.csv" in message and "missing" in message and "Check the path" in message
    assert "a folder" in load_error(tmp_path, FileNotFoundError)


@pytest.mark.parametrize("text", ["", "\n\n  \n", ",,,\n"])
def test_empty_file(tmp_path, text):
    message = load_error(write(tmp_path, text))
    assert "data.csv is empty" in message and "no rows" in message


def test_header_without_rows(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n"))
    assert "has 0 data row(s)" in message and "at least 10" in message and "Add rows" in message


def test_non_numeric_cell(tmp_path):
    lines = [HEADER, *rows_text().split("\n")]
    lines[6] = "6,3.0,abc,cat"
    message = load_error(write(tmp_path, "\n".join(lines)))
    assert "data.csv line 7, column 'weight': expected a number, got 'abc'" in message
    assert "Fix that cell or delete the row" in message


def test_non_numeric_cell_without_header_names_the_column_number(tmp_path):
    lines = rows_text().split("\n")
    lines[4] = "4,tall,3.5,cat"
    message = load_error(write(tmp_path, "\n".join(lines)), label=-1)
    assert "data.csv line 5, column 2: expected a number, got 'tall'" in message


@pytest.mark.parametrize(("cell", "expected"), [
    ("", "got an empty cell (a missing value)"),
    ("NA", "'NA' marks a missing value"),
    ("?", "'?' marks a missing value"),
    ("nan", "expected a finite number, got nan"),
    ("inf", "expected a finite number, got inf"),
    ('"3,5"', "Write decimals with a dot"),
])
def test_missing_and_odd_numbers(tmp_path, cell, expected):
    lines = [HEADER, *rows_text().split("\n")]
    lines[9] = f"8,{cell},2.5,cat"
    message = load_error(write(tmp_path, "\n".join(lines)))
    assert "data.csv line 10, column 'height'" in message and expected in message


@pytest.mark.parametrize(("cell", "found"), [("", "an empty cell"), ("?", "'?', which marks a missing value")])
def test_missing_label(tmp_path, cell, found):
    lines = [HEADER, *rows_text().split("\n")]
    lines[12] = f"11,2.0,3.5,{cell}"
    message = load_error(write(tmp_path, "\n".join(lines)))
    assert f"data.csv line 13, column 'species': missing label (got {found})" in message
    assert "Fill in the label or delete the row" in message


def test_ragged_rows(tmp_path):
    lines = [HEADER, *rows_text().split("\n")]
    lines[4] = "3,2.0,cat"
    message = load_error(write(tmp_path, "\n".join(lines)))
    assert "data.csv line 5 has 3 cells, the header has 4" in message and "missing or extra ','" in message
    lines[4] = "3,2.0,1.5,cat,extra"
    assert "line 5 has 5 cells, the header has 4" in load_error(write(tmp_path, "\n".join(lines)))


def test_ragged_rows_without_header(tmp_path):
    lines = rows_text().split("\n")
    lines[2] = "2,2.0,cat"
    message = load_error(write(tmp_path, "\n".join(lines)), label=-1)
    assert "data.csv line 3 has 3 cells, the first row (line 1) has 4" in message


def test_too_few_rows(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n" + rows_text(6)))
    assert "data.csv has 6 data row(s); load_csv needs at least 10" in message


def test_too_few_rows_for_the_number_of_classes(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n" + rows_text(12, labels="abcdefg")))
    assert "12 data rows for 7 classes of 'species'; at least 14 are needed (2 per class" in message


def test_a_continuous_label_suggests_regression(tmp_path):
    text = "x,y\n" + "\n".join(f"{i},{i * 0.37}" for i in range(30))
    message = load_error(write(tmp_path, text), label="y")
    assert "30 classes" in message and "task='regression'" in message


def test_a_class_in_a_single_row(tmp_path):
    labels = ["a", "b"] * 6 + ["c"]
    text = "x,y\n" + "\n".join(f"{i},{label}" for i, label in enumerate(labels))
    message = load_error(write(tmp_path, text), label="y")
    assert "class 'c' of 'y' appears in a single row (line 14)" in message and "at least 2 rows" in message


def test_a_single_class(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n" + rows_text(12, labels=("cat",))))
    assert "holds a single class ('cat')" in message and "at least 2 classes" in message


def test_label_column_that_does_not_exist(tmp_path):
    path = write(tmp_path, HEADER + "\n" + rows_text())
    message = load_error(path, label="Species")
    assert "data.csv has no column named 'Species'" in message
    assert "0: 'row_id', 1: 'height', 2: 'weight', 3: 'species'" in message and "Did you mean 'species'?" in message
    message = load_error(path, label=4)
    assert "label=4" in message and "has 4 columns (indices 0..3, or -4..-1" in message
    assert "label=-5" in load_error(path, label=-5)


def test_label_name_without_a_header(tmp_path):
    message = load_error(write(tmp_path, rows_text(labels=("0", "1"))), label="species")
    assert "no header row (its first row (line 1) holds only numbers)" in message and "label=-1" in message
    message = load_error(write(tmp_path, rows_text()), label="species")    # 'cat' makes line 1 look like a header
    assert "no column named 'species'" in message and "may be data rather than a header" in message
    assert "label=-1" in message
    message = load_error(write(tmp_path, HEADER + "\n" + rows_text()), label="species", header=False)
    assert "header=False" in message


def test_duplicate_label_name(tmp_path):
    text = "a,species,species\n" + "\n".join(f"{i},{i % 2},{i % 3}" for i in range(12))
    message = load_error(write(tmp_path, text))
    assert "2 columns named 'species'" in message and "by index" in message


def test_a_single_column_suggests_the_delimiter(tmp_path):
    message = load_error(write(tmp_path, (HEADER + "\n" + rows_text()).replace(",", ";")))
    assert "data.csv line 1 has a single column" in message and "pass delimiter=';'" in message


def test_bad_quotes(tmp_path):
    lines = [HEADER, *rows_text().split("\n")]
    lines[5] = '4,2.0,1.5,"cat"s'
    message = load_error(write(tmp_path, "\n".join(lines)))
    assert "data.csv line 6: not valid CSV" in message and "double quotes" in message


@pytest.mark.parametrize(("content", "expected"), [
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(100), "an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel workbook (.xls)"),
    (b"\x1f\x8b\x08\x00" + bytes(50), "gzip-compressed"),
    (b"\x89PNG\r\n\x1a\n" + bytes(50), "a PNG image"),
    (b"a,b\n1,2\n\x00\x01\x02\x03", "NUL bytes"),
    ((HEADER + "\n" + rows_text()).encode("utf-16"), "UTF-16"),
])
def test_binary_files_are_refused(tmp_path, content, expected):
    message = load_error(write(tmp_path, content))
    assert "data.csv is not a CSV text file" in message and expected in message and "CSV UTF-8" in message


def test_not_utf8_names_the_line(tmp_path):
    lines = [HEADER, *rows_text().split("\n")]
    lines[8] = "7,2.0,1.5,café"
    message = load_error(write(tmp_path, "\n".join(lines), encoding="latin-1"))
    assert "data.csv line 9: expected UTF-8 text, got byte 0xe9" in message and "Save it as 'CSV UTF-8'" in message


def test_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(table, "MAX_CSV_BYTES", 2**20)
    path = write(tmp_path, HEADER + "\n" + "1,2,3,cat\n" * 200_000)
    message = load_error(path)
    assert "data.csv is 2 MB; load_csv reads at most 1 MB" in message and "sample of the rows" in message


def test_regression_target_must_be_a_number(tmp_path):
    text = "x1,price\n" + "\n".join(f"{i},{'cheap' if i == 5 else i}" for i in range(20))
    message = load_error(write(tmp_path, text), label="price", task="regression")
    assert "data.csv line 7, column 'price': expected a number as the regression target, got 'cheap'" in message
    assert "task='classification'" in message


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"task": "clustering"}, ValueError, "task to be one of 'classification', 'regression'"),
    ({"header": "yes"}, ValueError, "header to be 'auto', True or False"),
    ({"label": 1.5}, TypeError, "column name .* or index"),
    ({"label": True}, TypeError, "column name .* or index"),
    ({"test_fraction": 1.0}, ValueError, r"test_fraction in \[0, 1\)"),
    ({"delimiter": ";;"}, ValueError, "one character"),
])
def test_bad_arguments(tmp_path, kwargs, error, pattern):
    kwargs.setdefault("label", "species")
    with pytest.raises(error, match=pattern):
        load_csv(write(tmp_path, HEADER + "\n" + rows_text()), **kwargs)


def test_a_test_fraction_too_small_for_the_file(tmp_path):
    message = load_error(write(tmp_path, HEADER + "\n" + rows_text(10)), test_fraction=0.01)
    assert "data.csv" in message and "the test part would be empty" in message


def test_transform_checks_its_input(tmp_path):
    data = load_csv(write(tmp_path, HEADER + "\n" + rows_text()), label="species")
    with pytest.raises(ValueError, match=r"expected 3 feature values per row \(row_id, height, weight\), got 4"):
        data.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="finite"):
        data.transform(np.array([[1.0, np.nan, 2.0]]))
