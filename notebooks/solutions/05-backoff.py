import random


def reconnect_delay(attempt):
    delay = min(8, 0.5 * 2 ** (attempt - 1))  # 0.5, 1, 2, 4, 8, 8, ... seconds
    return delay * (1 - 0.5 * random.random())  # jitter: take off a random share, up to half
