"""Drives `recon mock-channel`'s Alipay gateway with the official alipay-sdk-python, used as a
merchant would use it: DefaultAlipayClient.execute, whose HTTP client always connects to port 80
(443 for https), so the mock listens on HOST:80. The SDK takes its timestamp from the local
clock, as Beijing time: run this with TZ=CST-8 (any UTC+8 zone).

Checks: the SDK's POST (common parameters in the query string, biz_content in the body) and its
GET URL (page_execute) are accepted and their answers verified by the SDK; the bill URL is
downloaded, its ZIP entries' CRC-32 checked, and the details and summary (GBK names) written to
--out. And, with Alipay's own codes: a key the mock does not know (isv.invalid-signature), a
timestamp 8 hours off (isv.invalid-timestamp), version 2.0 and format XML are refused; the SDK
refuses an answer whose signature was tampered with. Prints a JSON report.
"""
import io
import os
import time
import urllib.request
import zipfile

from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayDataDataserviceBillDownloadurlQueryModel import (
    AlipayDataDataserviceBillDownloadurlQueryModel)
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest)
from alipay.aop.api.response.AlipayDataDataserviceBillDownloadurlQueryResponse import (
    AlipayDataDataserviceBillDownloadurlQueryResponse)

from common import arguments, check, give_public_key, new_key, private_pem, read, refusal, run


def parse():
    parser = arguments(__doc__)
    parser.add_argument('--host', required=True, help="the mock's address; it listens on port 80")
    parser.add_argument('--app-id', required=True)
    return parser.parse_args()


def request_for(date, version=None):
    model = AlipayDataDataserviceBillDownloadurlQueryModel()
    model.bill_type = 'trade'
    model.bill_date = date
    request = AlipayDataDataserviceBillDownloadurlQueryRequest(biz_model=model)
    if version:
        request.version = version
    return request


def answer_of(content):
    response = AlipayDataDataserviceBillDownloadurlQueryResponse()
    response.parse_response_content(content)
    return response


def outcome(response):
    return response.code if response.is_success() else f'{response.code} {response.sub_code}'


def download(url, out):
    """The ZIP at the bill URL: every entry's CRC-32 checked, the two bill files written out."""
    with urllib.request.urlopen(url, timeout=30) as answer:
        archive = zipfile.ZipFile(io.BytesIO(answer.read()))
    check(archive.testzip() is None, 'an entry of the bill ZIP fails its CRC-32')
    written = {}
    for entry in archive.infolist():
        # Alipay's entry names are GBK without the UTF-8 flag; zipfile read them as cp437.
        name = entry.filename if entry.flag_bits & 0x800 else entry.filename.encode('cp437').decode('gbk')
        kind = 'summary' if name.endswith('(汇总).csv') else 'details' if name.endswith('_业务明细.csv') else None
        if kind:
            with open(os.path.join(out, kind + '.csv'), 'wb') as file:
                file.write(archive.read(entry))
            written[kind] = name
    check(set(written) == {'details', 'summary'}, f'the bill ZIP holds {sorted(written.values())}')
    return written


def main():
    args = parse()
    key = new_key()
    give_public_key(key, os.path.join(args.data, 'alipay', args.app_id, 'app_public_key.pem'))
    alipay_public_key = read(os.path.join(args.data, 'alipay', 'alipay_public_key.pem'))

    def client(signing_key=key, response_format='json'):
        config = AlipayClientConfig()
        config.server_url = f'http://{args.host}/gateway.do'
        config.app_id = args.app_id
        config.app_private_key = private_pem(signing_key, pkcs8=False)
        config.alipay_public_key = alipay_public_key
        config.format = response_format
        return DefaultAlipayClient(config)

    sdk = client()
    report = {}
    answer = answer_of(sdk.execute(request_for(args.date)))
    check(answer.is_success() and answer.bill_download_url,
          f'the download URL query answered {outcome(answer)} {answer.sub_msg}')
    report['post'] = outcome(answer)
    report['entries'] = download(answer.bill_download_url, args.out)

    # The same query as one signed GET URL, as SDKs that sign into the URL send it; the answer goes
    # through the SDK's own parse and signature check.
    url = sdk.page_execute(request_for(args.date), http_method='GET')
    with urllib.request.urlopen(url, timeout=30) as reply:
        answer = answer_of(sdk._DefaultAlipayClient__parse_response(reply.read()))
    check(answer.is_success() and answer.bill_download_url, f'the GET query answered {outcome(answer)}')
    report['get'] = outcome(answer)

    report['tampered'] = refusal(lambda: sdk.execute(request_for(args.tampered_date)))
    report['stranger'] = outcome(answer_of(client(signing_key=new_key()).execute(request_for(args.date))))
    report['version'] = outcome(answer_of(sdk.execute(request_for(args.date, version='2.0'))))
    report['format'] = outcome(answer_of(client(response_format='xml').execute(request_for(args.date))))
    zone = os.environ.get('TZ')
    os.environ['TZ'] = 'UTC0'
    time.tzset()
    try:
        report['utc_timestamp'] = outcome(answer_of(sdk.execute(request_for(args.date))))
    finally:
        if zone is None:
            del os.environ['TZ']
        else:
            os.environ['TZ'] = zone
        time.tzset()
    return report


if __name__ == '__main__':
    run(main)
