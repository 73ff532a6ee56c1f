from wstutorial.rpc import InvalidParams


def multiply(a, b):
    # JSON numbers arrive as int or float. bool is an int in Python, but JSON's true is no number.
    # Angka JSON tiba sebagai int atau float. bool adalah int di Python, tetapi true di JSON bukan angka.
    for value in (a, b):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidParams(f"{value!r}: not a number / bukan angka")
    return a * b
