defmodule EcsPeers.PeerSetTest do
  # Not async: the atom-count test must not see atoms made by tests running beside it.
  use ExUnit.Case, async: false

  alias EcsPeers.PeerSet

  test "parses the Lambda's value into sorted node atoms" do
    assert PeerSet.parse(
             ~s({"version":1,"nodes":["shop@10.0.2.9","shop@10.0.1.5","shop@10.0.1.5"]})
           ) ==
             {:ok,
              %{
                nodes: [:"shop@10.0.1.5", :"shop@10.0.2.9"],
                rejected: [],
                truncated: 0,
                new_atoms: 0
              }}
  end

  test "an empty set is a valid set" do
    assert {:ok, %{nodes: []}} = PeerSet.parse(~s({"version":1,"nodes":[]}))
  end

  test "a malformed value is an error, not an empty set" do
    assert PeerSet.parse("not json") == {:error, :value_not_json}
    assert PeerSet.parse("[]") == {:error, :value_not_an_object}
    assert PeerSet.parse(~s({"nodes":[]})) == {:error, :missing_version}
    assert PeerSet.parse(~s({"version":2,"nodes":[]})) == {:error, {:unsupported_version, 2}}
    assert PeerSet.parse(~s({"version":1,"nodes":"a@1.2.3.4"})) == {:error, :nodes_not_a_list}
    assert PeerSet.parse(~s({"version":1})) == {:error, :nodes_not_a_list}
    assert PeerSet.parse(~s({"version":1,"nodes":["junk", 5]})) == {:error, {:no_valid_nodes, 2}}
  end

  test "valid entries are kept and invalid ones reported" do
    assert {:ok, %{nodes: [:"shop@10.0.0.1"], rejected: rejected}} =
             PeerSet.validate(["shop@10.0.0.1", "shop@10.0.0.256", 7, "x"])

    assert rejected == [
             {"shop@10.0.0.256", :invalid_ipv4},
             {7, :not_a_string},
             {"x", :not_name_at_host}
           ]
  end

  test "entries are checked name by name" do
    ok = [
      "a@0.0.0.0",
      "shop_1-x@255.255.255.255",
      "Z@10.0.0.1",
      String.duplicate("a", 64) <> "@1.2.3.4"
    ]

    for entry <- ok, do: assert(PeerSet.check(entry) == :ok, entry)

    bad = [
      {"@1.2.3.4", :invalid_basename},
      {"sh op@1.2.3.4", :invalid_basename},
      {"shop.x@1.2.3.4", :invalid_basename},
      {"shöp@1.2.3.4", :invalid_basename},
      {String.duplicate("a", 65) <> "@1.2.3.4", :invalid_basename},
      {"shop@01.2.3.4", :invalid_ipv4},
      {"shop@1.2.3.04", :invalid_ipv4},
      {"shop@1.2.3", :invalid_ipv4},
      {"shop@1.2.3.4.5", :invalid_ipv4},
      {"shop@1.2.3.-4", :invalid_ipv4},
      {"shop@1.2.3.+4", :invalid_ipv4},
      {"shop@1.2.3.1000", :invalid_ipv4},
      {"shop@ip-10-0-0-1.ec2.internal", :invalid_ipv4},
      {"shop@1.2.3.4 ", :invalid_ipv4},
      {"shop@1.2.3.4\n", :invalid_ipv4},
      {"shop@a@1.2.3.4", :not_name_at_host},
      {"shop", :not_name_at_host},
      {String.duplicate("a", 81), :too_long},
      {nil, :not_a_string},
      {%{}, :not_a_string}
    ]

    for {entry, reason} <- bad,
        do: assert(PeerSet.check(entry) == {:error, reason}, inspect(entry))
  end

  test "a configured basename rejects the others" do
    assert PeerSet.check("shop@1.2.3.4", "shop") == :ok
    assert PeerSet.check("admin@1.2.3.4", "shop") == {:error, :other_basename}

    assert {:ok, %{nodes: [:"shop@1.2.3.4"], rejected: [{"admin@1.2.3.5", :other_basename}]}} =
             PeerSet.validate(["shop@1.2.3.4", "admin@1.2.3.5"], basename: "shop")
  end

  test "max_nodes caps the set" do
    entries = for i <- 1..10, do: "cap@10.9.0.#{i}"
    assert {:ok, %{nodes: nodes, truncated: 7}} = PeerSet.validate(entries, max_nodes: 3)
    assert nodes == [:"cap@10.9.0.1", :"cap@10.9.0.2", :"cap@10.9.0.3"]
  end

  test "thousands of junk names do not create a single atom" do
    junk =
      for i <- 1..5_000 do
        case rem(i, 5) do
          0 -> "junk#{i}@10.0.0.#{256 + i}"
          1 -> "junk #{i}@10.0.0.1"
          2 -> "junk#{i}@host-#{i}.example"
          3 -> "junk#{i}"
          4 -> "junk#{i}@010.0.0.1"
        end
      end

    value = ~s({"version":1,"nodes":[) <> Enum.map_join(junk, ",", &~s("#{&1}")) <> "]}"
    # Warm up whatever the first call loads, then count.
    PeerSet.parse(~s({"version":1,"nodes":["x"]}))
    before = :erlang.system_info(:atom_count)
    assert {:error, {:no_valid_nodes, 5_000}} = PeerSet.parse(value)
    # One valid entry among them: exactly one atom appears (a name no code holds yet).
    name = "atomcheck#{System.unique_integer([:positive])}@10.0.0.1"
    assert {:ok, %{nodes: [node], rejected: rejected}} = PeerSet.validate([name | junk])
    assert Atom.to_string(node) == name
    assert length(rejected) == 5_000
    assert :erlang.system_info(:atom_count) == before + 1
  end
end
