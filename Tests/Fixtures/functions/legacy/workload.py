"""A function written for the original's older entry point: handle(request, syscall) -> dict."""


def handle(request, syscall):
    return {"echo": request, "label": syscall.get_current_label()}
