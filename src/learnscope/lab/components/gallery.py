"""A gallery of small images with a caption under each (test digits, mistakes)."""

from nicegui import ui


def image_gallery(container, pictures: list[tuple[str, str]], empty: str = "Nothing to show.",
                  links: list[str] | None = None, link_hint: str = "") -> None:
    """Fill `container` with (PNG data URI, caption) pairs, left to right; `empty` when there are none.
    With `links`, each picture opens its link (link_hint is the tooltip)."""
    container.clear()
    with container:
        if not pictures:
            ui.label(empty).classes("text-sm text-slate-500")
            return
        with ui.row().classes("gap-2 flex-wrap"):
            for number, (source, caption) in enumerate(pictures):
                with ui.column().classes("gallery-item items-center gap-0 w-16"):
                    with ui.link(target=links[number]) if links else ui.element("div") as holder:
                        ui.element("img").props(f'src="{source}" alt="{caption}"').style(
                            "width: 56px; height: 56px; image-rendering: pixelated")
                    if links and link_hint:
                        holder.tooltip(link_hint)
                    ui.label(caption).classes("text-xs text-center leading-tight")
