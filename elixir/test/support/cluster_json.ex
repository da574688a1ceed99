defmodule EcsPeers.Test.ClusterJSON do
  @moduledoc """
  Just enough JSON for the cluster tests' own plumbing: the line protocol with
  `test/cluster/moto_helper.py` and the reconciler's report.

  It is test tooling, not the library's decoder, so the cluster tests never depend on
  the code they check. Objects decode to maps with string keys; numbers to integers or
  floats; `null` to `nil`.
  """

  @doc "Encodes maps (atom or string keys), lists, strings, numbers, booleans and nil."
  @spec encode!(term()) :: String.t()
  def encode!(term), do: term |> do_encode() |> IO.iodata_to_binary()

  defp do_encode(nil), do: "null"
  defp do_encode(true), do: "true"
  defp do_encode(false), do: "false"
  defp do_encode(atom) when is_atom(atom), do: do_encode(Atom.to_string(atom))
  defp do_encode(int) when is_integer(int), do: Integer.to_string(int)
  defp do_encode(float) when is_float(float), do: Float.to_string(float)
  defp do_encode(string) when is_binary(string), do: [?", escape(string), ?"]

  defp do_encode(list) when is_list(list),
    do: [?[, list |> Enum.map(&do_encode/1) |> Enum.intersperse(?,), ?]]

  defp do_encode(map) when is_map(map) do
    pairs = Enum.map(map, fn {k, v} -> [do_encode(to_string(k)), ?:, do_encode(v)] end)
    [?{, Enum.intersperse(pairs, ?,), ?}]
  end

  defp escape(string) do
    for <<c::utf8 <- string>>, into: "" do
      case c do
        ?" -> "\\\""
        ?\\ -> "\\\\"
        ?\n -> "\\n"
        ?\r -> "\\r"
        ?\t -> "\\t"
        c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
        c -> <<c::utf8>>
      end
    end
  end

  @doc "Decodes one JSON document; raises `ArgumentError` on anything else."
  @spec decode!(String.t()) :: term()
  def decode!(text) do
    case value(skip_ws(text)) do
      {value, rest} ->
        if skip_ws(rest) == "",
          do: value,
          else: raise(ArgumentError, "trailing data: #{inspect(rest)}")
    end
  end

  defp skip_ws(<<c, rest::binary>>) when c in ~c" \t\r\n", do: skip_ws(rest)
  defp skip_ws(rest), do: rest

  defp value("null" <> rest), do: {nil, rest}
  defp value("true" <> rest), do: {true, rest}
  defp value("false" <> rest), do: {false, rest}
  defp value("\"" <> rest), do: string(rest, [])
  defp value("[" <> rest), do: array(skip_ws(rest), [])
  defp value("{" <> rest), do: object(skip_ws(rest), %{})
  defp value(<<c, _::binary>> = text) when c in ~c"-0123456789", do: number(text)

  defp value(text),
    do: raise(ArgumentError, "unexpected JSON at #{inspect(String.slice(text, 0, 20))}")

  defp array("]" <> rest, []), do: {[], rest}

  defp array(text, acc) do
    {item, rest} = value(text)

    case skip_ws(rest) do
      "," <> rest -> array(skip_ws(rest), [item | acc])
      "]" <> rest -> {Enum.reverse([item | acc]), rest}
      other -> raise ArgumentError, "expected , or ] at #{inspect(String.slice(other, 0, 20))}"
    end
  end

  defp object("}" <> rest, acc) when acc == %{}, do: {acc, rest}

  defp object("\"" <> rest, acc) do
    {key, rest} = string(rest, [])
    ":" <> rest = skip_ws(rest)
    {item, rest} = value(skip_ws(rest))
    acc = Map.put(acc, key, item)

    case skip_ws(rest) do
      "," <> rest -> object(skip_ws(rest), acc)
      "}" <> rest -> {acc, rest}
      other -> raise ArgumentError, "expected , or } at #{inspect(String.slice(other, 0, 20))}"
    end
  end

  defp object(other, _acc),
    do: raise(ArgumentError, "expected a key at #{inspect(String.slice(other, 0, 20))}")

  defp string("\"" <> rest, acc), do: {acc |> Enum.reverse() |> IO.iodata_to_binary(), rest}

  defp string("\\u" <> <<hex::binary-size(4), rest::binary>>, acc) do
    code = String.to_integer(hex, 16)

    case {code, rest} do
      {high, "\\u" <> <<low_hex::binary-size(4), rest2::binary>>} when high in 0xD800..0xDBFF ->
        low = String.to_integer(low_hex, 16)
        string(rest2, [<<0x10000 + (high - 0xD800) * 0x400 + (low - 0xDC00)::utf8>> | acc])

      _ ->
        string(rest, [<<code::utf8>> | acc])
    end
  end

  defp string("\\" <> <<c, rest::binary>>, acc) do
    char =
      case c do
        ?n -> "\n"
        ?t -> "\t"
        ?r -> "\r"
        ?b -> "\b"
        ?f -> "\f"
        c -> <<c>>
      end

    string(rest, [char | acc])
  end

  defp string(<<c, rest::binary>>, acc), do: string(rest, [c | acc])
  defp string("", _acc), do: raise(ArgumentError, "unterminated string")

  defp number(text) do
    [num | _] = Regex.run(~r/^-?\d+(\.\d+)?([eE][-+]?\d+)?/, text)
    rest = binary_part(text, byte_size(num), byte_size(text) - byte_size(num))

    if String.contains?(num, [".", "e", "E"]) do
      {num |> normalize_float() |> String.to_float(), rest}
    else
      {String.to_integer(num), rest}
    end
  end

  # String.to_float/1 wants a fraction before an exponent ("1e5" -> "1.0e5").
  defp normalize_float(num) do
    if String.contains?(num, "."), do: num, else: String.replace(num, ~r/[eE]/, ".0e")
  end
end
