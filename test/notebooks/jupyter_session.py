"""Drives the einnet kernel through real Jupyter (jupyter_client), for test/notebooks/*.test.ts.

Reads a JSON script on stdin: {"cwd": folder, "steps": [{"code": ..., "interrupt_after_s": 5?}, ...]}.
Starts the kernel named einnet-tslab (found through JUPYTER_DATA_DIR / JUPYTER_PATH), runs each
step's code with execute_request and collects its iopub messages; a step with interrupt_after_s
gets Jupyter's interrupt (KernelManager.interrupt_kernel: SIGINT, as the kernel spec says) that
many seconds after the step's first output (the cell prints as its long call starts: a SIGINT
that arrives while tslab compiles the cell is lost). Prints one JSON result per step: status,
execution_count, the error fields, stream text, display data, and for interrupted steps the
seconds from the interrupt to the execute_reply.
"""
import json
import sys
import time
from queue import Empty

from jupyter_client.manager import KernelManager

script = json.load(sys.stdin)
km = KernelManager(kernel_name="einnet-tslab")
km.start_kernel(cwd=script["cwd"])
kc = km.client()
kc.start_channels()
results = []
try:
    kc.wait_for_ready(timeout=120)
    for step in script["steps"]:
        msg_id = kc.execute(step["code"])
        started = time.monotonic()
        interrupt_after = step.get("interrupt_after_s")
        first_output_at = None
        interrupted_at = None
        reply = None
        streams, displays, errors = "", [], []
        idle = False
        while reply is None or not idle:
            if interrupt_after is not None and interrupted_at is None and first_output_at is not None:
                if time.monotonic() - first_output_at >= interrupt_after:
                    km.interrupt_kernel()
                    interrupted_at = time.monotonic()
            if time.monotonic() - started > step.get("timeout_s", 300):
                raise RuntimeError("no execute_reply for: " + step["code"])
            if reply is None:
                try:
                    msg = kc.get_shell_msg(timeout=0.01)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        reply = msg
                        replied_at = time.monotonic()
                    continue
                except Empty:
                    pass
            try:
                msg = kc.get_iopub_msg(timeout=0.02)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind == "stream":
                streams += content["text"]
                first_output_at = first_output_at or time.monotonic()
            elif kind in ("display_data", "update_display_data", "execute_result"):
                displays.append({"kind": kind, "data": content["data"]})
                first_output_at = first_output_at or time.monotonic()
            elif kind == "error":
                errors.append(content)
        replied_after = None if interrupted_at is None else replied_at - interrupted_at
        c = reply["content"]
        if c["status"] == "error":
            # tslab drops requests that arrive within 200 ms of a failure (stop_on_error).
            time.sleep(0.4)
        results.append(
            {
                "status": c["status"],
                "execution_count": c.get("execution_count"),
                "ename": c.get("ename"),
                "evalue": c.get("evalue"),
                "traceback": c.get("traceback"),
                "errors": errors,
                "stream": streams,
                "displays": displays,
                "replied_after_interrupt_s": replied_after,
            }
        )
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(results))
