"""Drives `recon mock-channel`'s WeChat Pay API v3 with the wechatpayv3 SDK, used as a merchant
would use it. The one change: the SDK's gateway, a constant set in Core.__init__
(https://api.mch.weixin.qq.com), is the mock's base URL. Paths, signing, verification and
decryption are the SDK's own.

Checks, in both of the SDK's modes (the platform certificate fetched from /v3/certificates and
decrypted with the APIv3 key; the platform public key with its PUB_KEY_ID_… id): the SDK signs
the bill application, the mock accepts it, the SDK verifies the answer, downloads the bill and
its SHA-1 matches the announced hash_value. And: a key the mock does not know gets 401
SIGN_ERROR; the SDK refuses an answer whose signature was tampered with and one that names no
Wechatpay-Signature-Type. Prints a JSON report; writes each downloaded bill to --out.
"""
import gzip
import hashlib
import json
import os
import secrets
import string
import tempfile

from cryptography import x509
from wechatpayv3 import WeChatPay, WeChatPayType, core

from common import arguments, check, give_public_key, new_key, private_pem, read, refusal, run, write

MERCHANT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1'


def parse():
    parser = arguments(__doc__)
    parser.add_argument('--base', required=True, help='the mock, http://127.0.0.1:PORT')
    parser.add_argument('--mchid', required=True)
    parser.add_argument('--untyped-date', required=True, help='a day with bad_signature (argument 1)')
    return parser.parse_args()


def fetch(client, date, out):
    """Apply for the bill (the SDK verifies the answer), download it, check its SHA-1."""
    status, text = client.trade_bill(bill_date=date)
    check(status == 200, f'trade_bill({date}) answered HTTP {status}: {text}')
    answer = json.loads(text)
    status, content = client.download_bill(answer['download_url'])
    check(status == 200, f'download_bill answered HTTP {status}: {content!r:.300}')
    bill = gzip.decompress(content)
    sha1 = hashlib.sha1(bill).hexdigest()
    check(answer.get('hash_type') == 'SHA1' and sha1 == answer.get('hash_value'),
          f'the bill of {date} hashes to {sha1}, the answer announced {answer.get("hash_value")}')
    with open(out, 'wb') as file:
        file.write(bill)
    return {'sha1': sha1, 'bytes': len(bill)}


def main():
    args = parse()
    # Every Core talks to the mock: the SDK assigns its constant in __init__ and, in certificate
    # mode, fetches /v3/certificates before __init__ returns, so the attribute is overridden on
    # the class (assignments to it are ignored).
    core.Core._gate_way = property(lambda self: args.base, lambda self, value: None)

    key = new_key()
    merchant = os.path.join(args.data, 'wechatpay', args.mchid)
    give_public_key(key, os.path.join(merchant, 'merchant_public_key.pem'))
    apiv3_key = ''.join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    write(os.path.join(merchant, 'apiv3_key'), apiv3_key)
    platform = os.path.join(args.data, 'wechatpay')

    def client(signing_key=key, **mode):
        return WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE, mchid=args.mchid, private_key=private_pem(signing_key, pkcs8=True),
            cert_serial_no=MERCHANT_SERIAL, appid='wx0000000000000000', apiv3_key=apiv3_key, **mode)

    report = {}
    with tempfile.TemporaryDirectory() as folder:
        # Certificate mode: the constructor fetches and decrypts the platform certificate.
        by_certificate = client(cert_dir=os.path.join(folder, 'certificates'))
        certificates = by_certificate._core._certificates
        check(len(certificates) == 1, f'/v3/certificates gave {len(certificates)} usable certificates, not 1')
        served = x509.load_pem_x509_certificate(read(os.path.join(platform, 'platform_certificate.pem')).encode())
        check(certificates[0] == served, 'the certificate the SDK decrypted is not the platform certificate')
        report['certificate_serial'] = format(certificates[0].serial_number, 'X')
        report['certificate_mode'] = fetch(by_certificate, args.date, os.path.join(args.out, 'by-certificate.csv'))

        report['tampered'] = refusal(lambda: by_certificate.trade_bill(bill_date=args.tampered_date))
        report['untyped'] = refusal(lambda: by_certificate.trade_bill(bill_date=args.untyped_date))

    # Public key mode: no certificate; requests and answers name the key by its id.
    key_id = read(os.path.join(platform, 'platform_public_key_id')).strip()
    check(key_id.startswith('PUB_KEY_ID_'), f'the platform public key id is {key_id!r}')
    by_public_key = client(public_key=read(os.path.join(platform, 'platform_public_key.pem')), public_key_id=key_id)
    report['public_key_mode'] = fetch(by_public_key, args.date, os.path.join(args.out, 'by-public-key.csv'))
    # Had an answer named the certificate instead, the SDK would have fetched it to verify.
    check(not by_public_key._core._certificates, 'in public key mode the answers named the certificate serial')

    # A key the mock does not have for this merchant: refused before any bill.
    stranger = client(signing_key=new_key(), public_key=read(os.path.join(platform, 'platform_public_key.pem')),
                      public_key_id=key_id)
    status, text = stranger.trade_bill(bill_date=args.date)
    report['stranger'] = f'{status} {json.loads(text).get("code")}'
    return report


if __name__ == '__main__':
    run(main)
