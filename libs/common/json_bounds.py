"""Free-form JSON a client stores with us (an agent's report data, a template's rubric) is kept as it came, never
interpreted: only its size and its depth are bounded."""

import msgspec


def json_depth(raw: bytes) -> int:
    """How deeply `raw` (valid JSON) nests arrays and objects; brackets inside strings do not count."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def bounded_json(value: object, *, max_bytes: int, max_depth: int) -> tuple[bytes, str | None]:
    """`value` encoded, and what is wrong with it (None: within both bounds)."""
    encoded = msgspec.json.encode(value)
    if len(encoded) > max_bytes:
        return encoded, f"is over {max_bytes} bytes encoded"
    if json_depth(encoded) > max_depth:
        return encoded, f"nests deeper than {max_depth} levels"
    return encoded, None
