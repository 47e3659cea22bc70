#!/usr/bin/env python3
"""The eastus Batch + Azure Machine Learning prefixes, collapsed, as people script it today."""
import ipaddress
import json
import sys

with open(sys.argv[1]) as f:
    doc = json.load(f)
wanted = {"BatchNodeManagement.EastUS", "AzureMachineLearning.EastUS"}
nets = [
    ipaddress.ip_network(p)
    for v in doc["values"]
    if v["name"] in wanted
    for p in v["properties"]["addressPrefixes"]
    if ":" not in p
]
for n in ipaddress.collapse_addresses(nets):
    print(n)
