"""A PyTorch model watched with learnscope.watch shows on the lab's MNIST page like an engine run: it is listed
among the past runs with its test accuracy, and its chart draws the curves read back from the run store."""

import pytest

from learnscope.store import RunStore

#: How many pixels of the n-th live chart's canvas, in its rightmost 40 pixels (the plot's right edge, away from
#: the legend), are within a small distance of a colour
INK_OF_COLOUR = """([index, hex]) => {
    const canvas = document.querySelectorAll('.live-chart canvas')[index];
    const pixels = canvas.getContext('2d').getImageData(canvas.width - 40, 0, 40, canvas.height).data;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) {
        if (Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) < 60) inked++;
    }
    return inked;
}"""


def test_a_watched_pytorch_run_is_drawn_in_the_mnist_pages_past_run_chart(lab_page, lab_server, torch,
                                                                          train_watched):
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    store = lab_server.log.parent / "runs.sqlite"                   # the store the lab server reads
    watcher, accuracy = train_watched(net, torch.optim.Adam(net.parameters(), lr=1e-3), store, every=25,
                                      name="pytorch-mlp")
    with RunStore(store) as runs:
        metrics = runs.metrics(watcher.run_id)

    page = lab_page.open("/mnist")
    page.get_by_role("button", name="Refresh").click()
    picker = page.get_by_role("combobox", name="Recorded run")
    picker.click()
    label = f"#{watcher.run_id} pytorch-mlp (finished, {accuracy:.1%} test accuracy)"
    page.get_by_role("option", name=label).click()
    page.get_by_role("option", name=label).wait_for(state="detached")     # the menu has closed
    chart = lab_page.live_chart("A recorded run", n_lines=4, n_points=1)
    lines = {line["name"]: line for line in chart["series"]}
    assert list(lines) == ["train loss", "train accuracy", "test loss", "test accuracy"]
    steps, losses = metrics["loss"]
    assert lines["train loss"]["xs"] == steps.tolist() == list(range(0, 469, 25))
    assert lines["train loss"]["ys"] == pytest.approx(losses.tolist())
    assert lines["test accuracy"]["ys"] == pytest.approx([accuracy])
    assert chart["inked"] > 200, "the recorded run's lines are not drawn"
    # the one test point sits at the last step, on the plot's right edge: drawn whole (4 × 4), not cut in half
    test_point = page.evaluate(INK_OF_COLOUR, [4, lines["test accuracy"]["color"]])
    assert test_point >= 14, test_point
    page.get_by_text(f"Trained with PyTorch {torch.__version__} and recorded by learnscope.watch").wait_for()
    assert page.locator(".run-note").inner_text().endswith("Its network: Flatten → Linear → ReLU → Linear.")
    assert page.get_by_role("button", name="Use its settings").is_disabled()      # no lab recipe to fill the form
    assert page.get_by_role("button", name="Continue training").is_disabled()
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot_of(".live-chart >> nth=4", "mnist-pytorch-run")
    page.set_viewport_size({"width": 1920, "height": 1080})
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot_of(".run-note", "mnist-pytorch-run-1920")


def test_a_network_trained_in_pytorch_reads_a_drawing_on_the_draw_page(lab_page, lab_server, torch, train_watched):
    """Model exchange's promise: trained in PyTorch (here on the CPU), imported into the engine, saved into the
    lab's models folder, and picked on the Draw page, it reads a digit drawn with the mouse."""
    from learnscope.bridge.torch_models import from_torch

    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    store = lab_server.log.parent / "runs.sqlite"
    train_watched(net, torch.optim.Adam(net.parameters(), lr=1e-3), store, name="pytorch-for-draw")
    models = lab_server.log.parent / "models"
    from_torch(net).save(models / "pytorch-mlp.safetensors", {"dataset": "mnist", "input_shape": [1, 28, 28]})

    page = lab_page.open("/draw")
    page.get_by_label("Model that reads your drawing").click()
    page.get_by_role("option", name="Saved file: pytorch-mlp.safetensors").click()
    page.get_by_text("Reading with: pytorch-mlp.safetensors").wait_for()
    lab_page.draw_on_pad([(146, 40), (141, 140), (136, 240)])
    page.get_by_text("It reads: 1").wait_for(timeout=10_000)
    page.get_by_text("Hidden layer 1 (ReLU, 128 units)").wait_for()
    page.mouse.move(1270, 790)                                      # no tooltip over the screenshot
    page.wait_for_timeout(300)
    lab_page.screenshot("draw-pytorch-model", full_page=False)
    page.set_viewport_size({"width": 1920, "height": 1080})
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot("draw-pytorch-model-1920", full_page=False)
