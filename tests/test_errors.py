"""The error hierarchy and the native-to-Python translation."""

from __future__ import annotations

import pickle

import pytest

import lumengate
from lumengate import assign, errors


def test_native_errors_arrive_as_typed_python_errors() -> None:
    with pytest.raises(errors.InvalidArgument) as caught:
        assign.hash_many(["a"], "md5", seed=1)
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, errors.LumengateError)
    assert error.field == "seed"
    assert str(error).startswith("seed: ")


def test_errors_pickle_with_their_fields() -> None:
    error = errors.InvalidArgument("weights: must sum to 1", field="weights")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is errors.InvalidArgument
    assert again.field == "weights" and str(again) == str(error)
    http = pickle.loads(pickle.dumps(errors.HttpError("boom", status=503, retryable=True)))
    assert http.status == 503 and http.retryable


def test_hierarchy() -> None:
    assert issubclass(errors.ParseError, errors.InvalidArgument)
    assert issubclass(errors.Timeout, TimeoutError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.LumengateError)


def test_package_surface() -> None:
    assert lumengate.__version__ != "0+unknown"
    assert set(lumengate.__all__) >= {"assign", "stats", "errors", "set_max_threads"}
    for name in assign.__all__:
        assert hasattr(assign, name), name
