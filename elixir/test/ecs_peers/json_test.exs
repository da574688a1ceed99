defmodule EcsPeers.JSONTest do
  use ExUnit.Case, async: true

  alias EcsPeers.JSON

  describe "decode_fallback/1 (the built-in RFC 8259 decoder)" do
    test "decodes every kind of value, objects to maps with string keys" do
      assert JSON.decode_fallback(~s({"a":1,"b":[true,false,null],"c":"x","d":-1.5e2,"e":{}})) ==
               {:ok,
                %{"a" => 1, "b" => [true, false, nil], "c" => "x", "d" => -150.0, "e" => %{}}}

      assert JSON.decode_fallback(" [ ] ") == {:ok, []}
      assert JSON.decode_fallback("0") == {:ok, 0}
      assert JSON.decode_fallback("1E3") == {:ok, 1000.0}
      assert JSON.decode_fallback("0.25") == {:ok, 0.25}
    end

    test "decodes a peer set as the Lambda writes it" do
      assert JSON.decode_fallback(~s({"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]})) ==
               {:ok, %{"version" => 1, "nodes" => ["shop@10.0.1.5", "shop@10.0.2.9"]}}
    end

    test "decodes escapes, unicode escapes and surrogate pairs" do
      assert JSON.decode_fallback(~S("a\"b\\c\/d\b\f\n\r\t")) == {:ok, "a\"b\\c/d\b\f\n\r\t"}
      assert JSON.decode_fallback(~S("\u00e9\u1234")) == {:ok, "é\u1234"}
      assert JSON.decode_fallback(~S("\ud83d\ude00")) == {:ok, "😀"}
      assert JSON.decode_fallback(~s("héllo ✓")) == {:ok, "héllo ✓"}
    end

    test "decodes nesting, and refuses nesting too deep to be a peer set" do
      assert JSON.decode_fallback(~s({"a":[{"b":[[1],{"c":null}]}]})) ==
               {:ok, %{"a" => [%{"b" => [[1], %{"c" => nil}]}]}}

      assert {:error, {:invalid_json, :too_deep}} =
               JSON.decode_fallback(String.duplicate("[", 100) <> String.duplicate("]", 100))
    end

    test "rejects garbage with {:error, reason}" do
      for bad <- [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "[,1]",
            ~s({"a":1,}),
            ~s({"a" 1}),
            ~s({a:1}),
            "{'a':1}",
            "01",
            "1.",
            ".5",
            "-",
            "+1",
            "1e",
            "tru",
            "nul",
            "NaN",
            ~s("abc),
            ~s("a\x01b"),
            ~S("\x"),
            ~S("\u12"),
            ~S("\ud83d"),
            ~S("\ude00x"),
            <<?", 0xFF, ?">>,
            "[1] [2]",
            "1e99999",
            ~s({"version":1} trailing)
          ] do
        assert {:error, {:invalid_json, _}} = JSON.decode_fallback(bad),
               "accepted #{inspect(bad)}"
      end
    end
  end

  test "decode/1 agrees with the fallback on what this runtime offers" do
    assert JSON.decode(~s({"version":1,"nodes":["a@1.2.3.4"]})) ==
             {:ok, %{"version" => 1, "nodes" => ["a@1.2.3.4"]}}

    assert {:error, _} = JSON.decode("{nope")
  end

  test "encode/1 writes request bodies with escapes" do
    assert JSON.encode(%{"Name" => "/ecs-peers/shop"}) == ~s({"Name":"/ecs-peers/shop"})

    assert JSON.encode(%{"a" => "q\"\\\n\u0001", "b" => [1, true, nil]}) ==
             ~S({"a":"q\"\\\n\u0001","b":[1,true,null]})

    assert {:ok, %{"x" => "é"}} = JSON.decode_fallback(JSON.encode(%{"x" => "é"}))
  end
end
