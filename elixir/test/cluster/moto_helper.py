"""Drives moto_server for the cluster tests (EcsPeers.Test.ClusterMoto).

Runs inside the hub network namespace next to moto_server and reads one JSON command
per line on stdin; answers each with one line "@@" + JSON ({"ok": true, ...} or
{"ok": false, "error": "..."}). Exits on EOF.

Commands ("op"):
  wait            {timeout}           until moto_server answers
  put_parameter   {name, value}       SSM PutParameter (String, Overwrite)
  get_parameter   {name}              -> {value} (null when missing)
  pin_ecs_tasks   {}                  ECS tasks keep their state on DescribeTasks
  run_tasks       {cluster, family, tasks: [{tags: {k: v}}]}
                                      -> {tasks: [{arn, ip, lastStatus, desiredStatus}]}
  stop_task       {cluster, task}     ECS StopTask
  describe_tasks  {cluster, tasks}    -> {tasks: [{arn, ip, lastStatus, desiredStatus}]}
  start_proxy     {port}              an HTTP proxy on 0.0.0.0:port in front of moto that
                                      counts SSM GetParameter requests per parameter name
  proxy_reads     {name}              -> {count, times: [ms since the proxy started]}
  create_cloud_map_service {namespace, service}  an HTTP namespace and its service -> {service_id}
  registered_nodes {service_id}       -> {nodes: [ECS_PEERS_NODE of each instance]}
  reregister_instance {service_id, instance_id}  RegisterInstance again, same attributes

Environment: MOTO_URL (default http://127.0.0.1:5000), AWS_* as for any boto3 client.
"""

import http.client
import json
import os
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

MOTO_URL = os.environ.get("MOTO_URL", "http://127.0.0.1:5000")
REGION = os.environ.get("AWS_REGION", "us-east-1")


def client(service):
    return boto3.client(
        service,
        endpoint_url=MOTO_URL,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # moto answers at once or not at all: fail fast with its error instead of retrying.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def wait(cmd):
    deadline = time.time() + cmd.get("timeout", 30)
    last = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(MOTO_URL + "/moto-api/", timeout=2) as resp:
                if resp.status == 200:
                    return {}
        except Exception as err:  # connection refused while moto starts
            last = err
        time.sleep(0.1)
    raise RuntimeError(f"moto_server at {MOTO_URL} did not answer: {last}")


def put_parameter(cmd):
    out = client("ssm").put_parameter(
        Name=cmd["name"], Value=cmd["value"], Type="String", Overwrite=True
    )
    return {"version": out["Version"]}


def get_parameter(cmd):
    ssm = client("ssm")
    try:
        return {"value": ssm.get_parameter(Name=cmd["name"])["Parameter"]["Value"]}
    except ssm.exceptions.ParameterNotFound:
        return {"value": None}


def pin_ecs_tasks(_cmd):
    body = json.dumps(
        {
            "model_name": "ecs::task",
            "transition": {"progression": "manual", "times": 1000000000},
        }
    ).encode()
    req = urllib.request.Request(
        MOTO_URL + "/moto-api/state-manager/set-transition", data=body, method="POST"
    )
    with urllib.request.urlopen(req, timeout=10):
        return {}


def default_network():
    """A subnet and the security group of the default VPC (RunTask with awsvpc needs both)."""
    ec2 = client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    vpc = vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return subnets[0]["SubnetId"], groups[0]["GroupId"]


def summarize(task):
    ip = None
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                ip = detail.get("value")
    return {
        "arn": task["taskArn"],
        "ip": ip,
        "lastStatus": task.get("lastStatus"),
        "desiredStatus": task.get("desiredStatus"),
    }


def run_tasks(cmd):
    ecs = client("ecs")
    cluster = cmd["cluster"]
    ecs.create_cluster(clusterName=cluster)
    family = cmd.get("family", "shop")
    ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": "shop:latest", "memory": 512, "essential": True}
        ],
    )
    subnet, group = default_network()
    arns = []
    for spec in cmd["tasks"]:
        args = {
            "cluster": cluster,
            "taskDefinition": family,
            "launchType": "FARGATE",
            "count": 1,
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": [subnet],
                    "securityGroups": [group],
                    "assignPublicIp": "DISABLED",
                }
            },
        }
        tags = [{"key": k, "value": v} for k, v in spec.get("tags", {}).items()]
        if tags:
            args["tags"] = tags
        out = ecs.run_task(**args)
        if out.get("failures"):
            raise RuntimeError(f"RunTask failed: {out['failures']}")
        arns.extend(t["taskArn"] for t in out["tasks"])
    return describe_tasks({"cluster": cluster, "tasks": arns})


def stop_task(cmd):
    client("ecs").stop_task(cluster=cmd["cluster"], task=cmd["task"], reason="cluster test")
    return {}


def describe_tasks(cmd):
    out = client("ecs").describe_tasks(cluster=cmd["cluster"], tasks=cmd["tasks"])
    by_arn = {t["taskArn"]: summarize(t) for t in out["tasks"]}
    return {"tasks": [by_arn[arn] for arn in cmd["tasks"] if arn in by_arn]}


OPS = {
    "wait": wait,
    "put_parameter": put_parameter,
    "get_parameter": get_parameter,
    "pin_ecs_tasks": pin_ecs_tasks,
    "run_tasks": run_tasks,
    "stop_task": stop_task,
    "describe_tasks": describe_tasks,
}


PROXY = {"lock": threading.Lock(), "reads": {}, "started": time.monotonic()}


class CountingProxy(BaseHTTPRequestHandler):
    """Forwards every request to moto as it came; counts GetParameter by name."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.forward()

    def do_GET(self):
        self.forward()

    def forward(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.headers.get("x-amz-target") == "AmazonSSM.GetParameter":
            try:
                name = json.loads(body or b"{}").get("Name")
            except ValueError:
                name = None
            at = round((time.monotonic() - PROXY["started"]) * 1000)
            with PROXY["lock"]:
                PROXY["reads"].setdefault(name, []).append(at)
        upstream = urllib.parse.urlparse(MOTO_URL)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    def log_message(self, *_args):
        pass


def start_proxy(cmd):
    server = ThreadingHTTPServer(("0.0.0.0", cmd["port"]), CountingProxy)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {}


def proxy_reads(cmd):
    with PROXY["lock"]:
        times = list(PROXY["reads"].get(cmd["name"], []))
    return {"count": len(times), "times": times}


OPS.update(start_proxy=start_proxy, proxy_reads=proxy_reads)


def create_cloud_map_service(cmd):
    sd = client("servicediscovery")
    sd.create_http_namespace(Name=cmd["namespace"])
    namespace = next(n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == cmd["namespace"])
    service = sd.create_service(Name=cmd["service"], NamespaceId=namespace["Id"])["Service"]
    return {"service_id": service["Id"]}


def registered_nodes(cmd):
    out = client("servicediscovery").list_instances(ServiceId=cmd["service_id"], MaxResults=100)
    return {"nodes": [i["Attributes"].get("ECS_PEERS_NODE") for i in out["Instances"]]}


def reregister_instance(cmd):
    """RegisterInstance again with the same attributes: AWS updates in place and the
    service's revision goes up; moto appends a duplicate (read as the same node)."""
    sd = client("servicediscovery")
    instances = sd.list_instances(ServiceId=cmd["service_id"], MaxResults=100)["Instances"]
    instance = next(i for i in instances if i["Id"] == cmd["instance_id"])
    sd.register_instance(
        ServiceId=cmd["service_id"], InstanceId=instance["Id"], Attributes=instance["Attributes"]
    )
    return {}


OPS.update(
    create_cloud_map_service=create_cloud_map_service,
    registered_nodes=registered_nodes,
    reregister_instance=reregister_instance,
)


def main():
    print("@@" + json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
            result = OPS[cmd["op"]](cmd)
            reply = {"ok": True, **result}
        except Exception as err:  # reported to the test, which fails with it
            traceback.print_exc(file=sys.stdout)
            reply = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        print("@@" + json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
