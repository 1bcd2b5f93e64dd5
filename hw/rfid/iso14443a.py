"""ISO/IEC 14443-3 type A pieces both the RC522 driver and its emulator need: CRC_A, the
cascade levels of a UID and their BCC. Pure."""

from __future__ import annotations

REQA = 0x26
WUPA = 0x52  # unlike REQA it also wakes cards that were halted: a resting card is read again
HLTA = bytes([0x50, 0x00])
CASCADE_TAG = 0x88
SEL = (0x93, 0x95, 0x97)  # cascade levels 1, 2, 3
SAK_UID_INCOMPLETE = 0x04


def crc_a(data: bytes) -> bytes:
    """CRC_A (ISO/IEC 14443-3 Annex B): preset 0x6363, reflected polynomial 0x8408, LSB first."""
    crc = 0x6363
    for byte in data:
        b = byte ^ (crc & 0xFF)
        b = (b ^ (b << 4)) & 0xFF
        crc = (crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)
    return bytes([crc & 0xFF, crc >> 8])


def bcc(four: bytes) -> int:
    return four[0] ^ four[1] ^ four[2] ^ four[3]


def cascade_levels(uid: bytes) -> list[bytes]:
    """The 4 bytes a card sends at each cascade level: 88 marks that more follow."""
    if len(uid) == 4:
        return [uid]
    if len(uid) == 7:
        return [bytes([CASCADE_TAG]) + uid[:3], uid[3:]]
    if len(uid) == 10:
        return [bytes([CASCADE_TAG]) + uid[:3], bytes([CASCADE_TAG]) + uid[3:6], uid[6:]]
    raise ValueError(f"a type A UID has 4, 7 or 10 bytes, not {len(uid)}")
