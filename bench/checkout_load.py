"""Many shoppers checking out at once over HTTP: a load generator run in its own process.

python bench/checkout_load.py BASE_URL BUYERS_JSON CONCURRENCY  -> one JSON line of results
"""

import http.client
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# A 409 is the checkout page again, saying why (orders/exceptions.py): a stock shortage is the
# refusal a hot variant must give; any other means the bench's buyers were set up wrong.
REFUSALS = {
    "Not enough stock for every line": "not enough stock",
    "changed since the page was shown": "cart changed",
}


def outcome_of(answer):
    """What a checkout's answer means: a response, the HTTPError urllib raises for one (every
    status but 2xx), or the error that came instead of an answer.

    Closes the answer: gunicorn's sync worker waits (up to 2 s) for the shopper to close the
    connection before it takes the next one, so a connection left open stalls the server.
    """
    if not isinstance(answer, urllib.error.HTTPError | http.client.HTTPResponse):
        return type(answer).__name__
    with answer:
        if answer.status == 307:  # placed: the browser goes on to start payment (a POST)
            return "ordered"
        if answer.status == 409:
            page = answer.read().decode(errors="replace")
            return next((name for text, name in REFUSALS.items() if text in page), "409, refused")
        return str(answer.status)


def main(base, buyers_file, concurrency):
    with open(buyers_file) as file:
        buyers = json.load(file)
    opener = urllib.request.build_opener(NoRedirect)
    outcomes, latencies, ordered_at, lock = Counter(), [], [], threading.Lock()
    queue = list(reversed(buyers))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                buyer = queue.pop()
            body = urllib.parse.urlencode({**buyer["form"], "csrfmiddlewaretoken": buyer["csrf"]})
            request = urllib.request.Request(
                f"{base}/checkout/",
                data=body.encode(),
                headers={"Cookie": buyer["cookie"], "Referer": f"{base}/checkout/"},
            )
            started = time.perf_counter()
            try:
                answer = opener.open(request, timeout=30)
            except OSError as error:  # an HTTPError is an answer; any other, none came
                answer = error
            outcome = outcome_of(answer)
            finished = time.perf_counter()
            with lock:
                outcomes[outcome] += 1
                latencies.append(finished - started)
                if outcome == "ordered":
                    ordered_at.append(finished - run_started)

    run_started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - run_started
    latencies.sort()
    # Orders per second while there was stock to sell: once a hot product is sold out, the
    # shoppers still arriving can only be refused, and counting that time would make the rate
    # depend on how many more shoppers came than there was stock. Those answers are counted
    # separately, as answers per second over the whole run.
    selling = max(ordered_at, default=elapsed)
    print(
        json.dumps(
            {
                "buyers": len(buyers),
                "seconds": round(elapsed, 3),
                "orders_per_s": round(outcomes["ordered"] / selling, 1),
                "answers_per_s": round(len(buyers) / elapsed, 1),
                "outcomes": dict(outcomes),
                "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
