defmodule EcsPeers.AWS.HttpTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.Http

  test "a missing CA store is an error with a hint, not a crash" do
    no_store = fn -> raise ArgumentError, "no cacerts found" end
    assert {:error, {:no_ca_store, "no cacerts found"}} = Http.tls_options("ssm.x", no_store)
    assert {:error, {:no_ca_store, _}} = Http.tls_options("ssm.x", fn -> [] end)
    assert {:ok, opts} = Http.tls_options("ssm.x", fn -> [:a_cert] end)
    assert opts[:verify] == :verify_peer

    reason = {:unreachable, "https://ssm.x", {:no_ca_store, "no cacerts found"}}

    assert EcsPeers.AWS.Errors.describe(reason, "/p") =~
             "install ca-certificates in the image"
  end
end
