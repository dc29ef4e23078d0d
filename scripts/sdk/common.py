"""What both SDK drivers share: merchant keys, files, and how a driver reports and fails."""
import argparse
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class DriverFailure(Exception):
    """A check of the driver failed: the message says which and why."""


def arguments(description):
    """The options both drivers take; each adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--data', required=True, help="the mock's --data folder")
    parser.add_argument('--date', required=True, help='a day the mock serves as is')
    parser.add_argument('--tampered-date', required=True, help='a day with bad_signature (argument 0)')
    parser.add_argument('--out', required=True, help='a folder for what is downloaded')
    return parser


def check(condition, message):
    if not condition:
        raise DriverFailure(message)


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key, pkcs8):
    """PKCS#8 (wechatpayv3) or PKCS#1 (alipay-sdk-python) PEM text."""
    form = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption()).decode()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as file:
        file.write(text)


def give_public_key(key, path):
    """The merchant's public key where the mock looks for it, so it checks our signatures."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    write(path, pem)


def read(path):
    with open(path, encoding='utf-8') as file:
        return file.read()


def run(main):
    """Runs `main()`, prints its report as one JSON line; a failed check exits 1 with its message."""
    try:
        report = main()
    except DriverFailure as failure:
        print(f'{os.path.basename(sys.argv[0])}: {failure}', file=sys.stderr)
        sys.exit(1)
    print(json.dumps(report, ensure_ascii=False, sort_keys=True))


def refusal(call):
    """The text of the exception `call()` raises, or None when it raises none."""
    try:
        call()
    except Exception as error:  # the SDKs raise plain Exception on a refused answer
        return str(error)
    return None
