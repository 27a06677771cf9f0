"""Model exchange with PyTorch: the same outputs both ways, to 1e-5, for the engine's MLP and CNN and for networks
built in PyTorch. CI installs the CPU wheel (torch==2.13.0); elsewhere these tests skip, saying how to run them."""

import numpy as np
import pytest

from learnscope.architectures import build_cnn, build_mlp
from learnscope.layers import Dense, Residual
from learnscope.model import Sequential


def images(n=16, shape=(1, 28, 28), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def warmed(model, x):
    """Batch-norm statistics that are not the initial 0 and 1, so copying them is tested."""
    for _ in range(3):
        model.forward(x * 1.5 + 0.2, train=True)
    return model


@pytest.mark.parametrize("build", [
    lambda: build_mlp((1, 28, 28), 10, hidden=(64, 32), batch_norm=True, dropout=0.2, input_stats=(0.13, 0.31),
                      seed=1),
    lambda: build_cnn((1, 28, 28), 10, batch_norm=True, dropout=0.3, input_stats=(0.13, 0.31), seed=2),
], ids=["mlp", "cnn"])
def test_an_engine_model_exported_and_imported_gives_the_same_outputs(torch, build):
    from learnscope.bridge.torch_models import from_torch, to_torch

    x = images()
    model = warmed(build(), x)
    expected = model.predict(x)
    net = to_torch(model)
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    back = from_torch(net)
    assert [type(layer).__name__ for layer in back.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(back.predict(x), expected, rtol=1e-5, atol=1e-5)


def test_a_network_trained_in_pytorch_opens_in_the_engine(torch):
    from learnscope.bridge.torch_models import from_torch

    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.05),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 7 * 7, 16), nn.Tanh(), nn.Dropout(0.1),
                        nn.Linear(16, 3))
    x = torch.from_numpy(images(32))
    y = torch.randint(0, 3, (32,))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(5):                                   # weights and running statistics away from their start
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        expected = net(x).numpy()
    model = from_torch(net)
    np.testing.assert_allclose(model.predict(x.numpy()), expected, rtol=1e-5, atol=1e-5)
    assert model.dtype == np.float32 and from_torch(net, dtype=np.float64).dtype == np.float64


def test_what_cannot_be_exchanged_is_named(torch):
    from learnscope.bridge.torch_models import from_torch, to_torch

    with pytest.raises(ValueError, match="layer 1 is a Residual"):
        to_torch(Sequential([Dense(4, 4), Residual(4)]))
    with pytest.raises(ValueError, match=r"module 1 \(GELU\(approximate='none'\)\) has no learnscope counterpart"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU()))
    with pytest.raises(ValueError, match="groups, dilation"):
        from_torch(torch.nn.Sequential(torch.nn.Conv2d(2, 2, 3, groups=2)))
    with pytest.raises(TypeError, match="torch.nn.Sequential"):
        from_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="learnscope Sequential"):
        to_torch(torch.nn.Linear(2, 2))
