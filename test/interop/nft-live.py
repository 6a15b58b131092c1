#!/usr/bin/python3
"""The clones' traffic for test/interop/nft-live.sh and nft-zones.sh (issue 24); dnsmasq answers.

  nft-live.py send V4 V6       the clone: UDP query, UDP to a closed port, ICMP echo, TCP to a
                               closed port (RST), IPv6 UDP AAAA query; to gateway V4 and V6
  nft-live.py same NAME        a clone of nft-zones.sh: the same queries (A id 0x1234 to 10.0.0.1,
                               AAAA id 0x1237 to fd00::1, from port 33333), and TCP to their
                               closed port 9
Only standard library; every packet stays in the test's namespaces.
"""
import os
import socket
import struct
import sys
import time

QUERY = bytes.fromhex('1234 0100 0001 0000 0000 0000'.replace(' ', '')) + b'\x03www\x07example\x04test\x00\x00\x01\x00\x01'
# the same, id 0x1237, for AAAA
QUERY6 = bytes.fromhex('1237 0100 0001 0000 0000 0000'.replace(' ', '')) + b'\x03www\x07example\x04test\x00\x00\x1c\x00\x01'


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def send(v4, v6):
    step = 0.3
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('0.0.0.0', 33333))
    u.settimeout(2)
    u.sendto(QUERY, (v4, 53))
    print('udp answer', len(u.recvfrom(2048)[0]), flush=True)
    time.sleep(step)
    u.sendto(QUERY, (v4, 5300))  # closed port: ICMP port unreachable, its quote untranslated
    time.sleep(step)
    icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    icmp.settimeout(2)
    body = struct.pack('!HH', 0x4242, 1) + b'ssnat-live-echo!'
    icmp.sendto(struct.pack('!BBH', 8, 0, csum(b'\x08\x00\x00\x00' + body)) + body, (v4, 0))
    icmp.recvfrom(2048)
    print('echo reply', flush=True)
    time.sleep(step)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.settimeout(2)
    try:
        t.connect((v4, 9))
    except ConnectionRefusedError:
        print('tcp refused', flush=True)
    time.sleep(step)
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    u6.bind(('::', 33333))
    u6.settimeout(2)
    u6.sendto(QUERY6, (v6, 53))
    print('udp6 answer', len(u6.recvfrom(2048)[0]), flush=True)
    time.sleep(step)


def same(name):
    for fam, any_, gw, query in ((socket.AF_INET, '0.0.0.0', '10.0.0.1', QUERY), (socket.AF_INET6, '::', 'fd00::1', QUERY6)):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        u.bind((any_, 33333))
        u.settimeout(1.5)
        u.sendto(query, (gw, 53))
        try:
            print(name, gw, 'udp answer', len(u.recvfrom(2048)[0]), flush=True)
        except socket.timeout:
            print(name, gw, 'udp timeout', flush=True)
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.settimeout(1.5)
        try:
            t.connect((gw, 9))
            print(name, gw, 'tcp connected', flush=True)
        except ConnectionRefusedError:
            print(name, gw, 'tcp refused', flush=True)
        except socket.timeout:
            print(name, gw, 'tcp timeout', flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'same':
        same(sys.argv[2])
    else:
        send(sys.argv[2], sys.argv[3])
