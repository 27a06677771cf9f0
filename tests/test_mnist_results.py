"""The seed's promise, on the real files: after training on 60,000 images, over 98% on unseen ones."""

import pytest

from learnscope.cli import main
from learnscope.model import load_model_with_metadata


@pytest.mark.mnist_results
@pytest.mark.parametrize("seed", range(5))
def test_default_mlp_recipe_reaches_98_percent_within_5_epochs(seed, shared_data_dir, tmp_path, capsys):
    path = tmp_path / f"mnist-{seed}.safetensors"
    code = main(["train", "mnist", "--data-dir", str(shared_data_dir), "--seed", str(seed), "-o", str(path)])
    assert code == 0, capsys.readouterr().err
    _, metadata = load_model_with_metadata(path)
    assert metadata["recipe"]["epochs"] <= 5
    assert metadata["test_accuracy"] >= 0.98, f"seed {seed}: {metadata['test_accuracy']:.4f}"
