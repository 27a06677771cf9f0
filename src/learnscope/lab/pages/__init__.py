"""One module per lab page; each has register(state) that adds its route."""
