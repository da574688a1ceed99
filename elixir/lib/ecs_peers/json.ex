defmodule EcsPeers.JSON do
  @moduledoc """
  JSON for ecs-peers, without dependencies.

  `decode/1` uses the best decoder the runtime offers: Elixir's `JSON` (1.18+), OTP's
  `:json` (27+), or `Jason` when the application has it, and otherwise the small strict
  RFC 8259 decoder in this module (`decode_fallback/1`), which is what runs on
  Elixir 1.14 / OTP 25. Objects decode to maps with string keys, `null` to `nil`.

  `encode/1` is only what a `GetParameter` request body needs: maps with string keys,
  strings, integers, booleans and `nil`.
  """

  @max_depth 64

  @doc "Decodes a JSON document. Returns `{:ok, term}` or `{:error, reason}`."
  @spec decode(binary()) :: {:ok, term()} | {:error, term()}
  def decode(binary) when is_binary(binary) do
    case decoder() do
      :elixir -> safely(fn -> apply(JSON, :decode, [binary]) end)
      :otp -> safely(fn -> {:ok, :json |> apply(:decode, [binary]) |> null_to_nil()} end)
      :jason -> safely(fn -> apply(Jason, :decode, [binary]) end)
      :fallback -> decode_fallback(binary)
    end
  end

  def decode(_other), do: {:error, :not_a_binary}

  # The runtime's decoders do not change while it runs: looked up once per VM, because
  # `Code.ensure_loaded?/1` of a module that is not there searches the whole code path
  # (about 2 ms a call under mix on OTP 25, against 7 µs for a small document).
  @decoder_key {__MODULE__, :decoder}

  defp decoder do
    case :persistent_term.get(@decoder_key, nil) do
      nil ->
        found = find_decoder()
        :persistent_term.put(@decoder_key, found)
        found

      found ->
        found
    end
  end

  defp find_decoder do
    cond do
      elixir_json?() -> :elixir
      otp_json?() -> :otp
      jason?() -> :jason
      true -> :fallback
    end
  end

  defp elixir_json? do
    Version.match?(System.version(), ">= 1.18.0") and Code.ensure_loaded?(JSON) and
      function_exported?(JSON, :decode, 1)
  end

  defp otp_json?, do: Code.ensure_loaded?(:json) and function_exported?(:json, :decode, 1)
  defp jason?, do: Code.ensure_loaded?(Jason) and function_exported?(Jason, :decode, 1)

  defp safely(fun) do
    case fun.() do
      {:ok, term} -> {:ok, term}
      {:error, reason} -> {:error, {:invalid_json, reason}}
    end
  rescue
    e -> {:error, {:invalid_json, Exception.message(e)}}
  catch
    kind, reason -> {:error, {:invalid_json, {kind, reason}}}
  end

  defp null_to_nil(:null), do: nil
  defp null_to_nil(list) when is_list(list), do: Enum.map(list, &null_to_nil/1)

  defp null_to_nil(map) when is_map(map),
    do: Map.new(map, fn {k, v} -> {k, null_to_nil(v)} end)

  defp null_to_nil(other), do: other

  ## Encoder

  @doc "Encodes maps with string keys, strings, integers, booleans and `nil` to a binary."
  @spec encode(term()) :: binary()
  def encode(term), do: term |> encode_value() |> IO.iodata_to_binary()

  defp encode_value(nil), do: "null"
  defp encode_value(true), do: "true"
  defp encode_value(false), do: "false"
  defp encode_value(int) when is_integer(int), do: Integer.to_string(int)
  defp encode_value(string) when is_binary(string), do: [?", escape(string, []), ?"]

  defp encode_value(list) when is_list(list),
    do: [?[, list |> Enum.map(&encode_value/1) |> Enum.intersperse(?,), ?]]

  defp encode_value(map) when is_map(map) do
    pairs =
      map
      |> Enum.sort()
      |> Enum.map(fn {key, value} when is_binary(key) ->
        [encode_value(key), ?:, encode_value(value)]
      end)

    [?{, Enum.intersperse(pairs, ?,), ?}]
  end

  defp escape(<<>>, acc), do: Enum.reverse(acc)
  defp escape(<<?", rest::binary>>, acc), do: escape(rest, ["\\\"" | acc])
  defp escape(<<?\\, rest::binary>>, acc), do: escape(rest, ["\\\\" | acc])
  defp escape(<<?\n, rest::binary>>, acc), do: escape(rest, ["\\n" | acc])
  defp escape(<<?\r, rest::binary>>, acc), do: escape(rest, ["\\r" | acc])
  defp escape(<<?\t, rest::binary>>, acc), do: escape(rest, ["\\t" | acc])

  defp escape(<<c, rest::binary>>, acc) when c < 0x20 do
    hex = c |> Integer.to_string(16) |> String.pad_leading(4, "0")
    escape(rest, ["\\u" <> hex | acc])
  end

  defp escape(<<c, rest::binary>>, acc), do: escape(rest, [c | acc])

  ## Fallback decoder: strict RFC 8259, recursive descent over the binary.

  @doc """
  The built-in strict RFC 8259 decoder used when the runtime offers none.

  Rejects trailing data, leading zeros, control characters in strings, lone
  surrogates, invalid UTF-8 and nesting deeper than #{@max_depth}.
  """
  @spec decode_fallback(binary()) :: {:ok, term()} | {:error, term()}
  def decode_fallback(binary) when is_binary(binary) do
    with {:ok, value, rest} <- value(skip_ws(binary), 0),
         "" <- skip_ws(rest) do
      {:ok, value}
    else
      {:error, reason} -> {:error, {:invalid_json, reason}}
      rest when is_binary(rest) -> {:error, {:invalid_json, {:trailing_data, byte_size(rest)}}}
    end
  end

  defp skip_ws(<<c, rest::binary>>) when c in [?\s, ?\t, ?\n, ?\r], do: skip_ws(rest)
  defp skip_ws(rest), do: rest

  defp value(_rest, depth) when depth > @max_depth, do: {:error, :too_deep}
  defp value(<<?{, rest::binary>>, depth), do: object(skip_ws(rest), depth + 1, %{})
  defp value(<<?[, rest::binary>>, depth), do: array(skip_ws(rest), depth + 1, [])
  defp value(<<?", rest::binary>>, _depth), do: string(rest, [])
  defp value(<<"true", rest::binary>>, _depth), do: {:ok, true, rest}
  defp value(<<"false", rest::binary>>, _depth), do: {:ok, false, rest}
  defp value(<<"null", rest::binary>>, _depth), do: {:ok, nil, rest}
  defp value(<<c, _::binary>> = bin, _depth) when c == ?- or c in ?0..?9, do: number(bin)
  defp value(<<>>, _depth), do: {:error, :unexpected_end}
  defp value(<<c, _::binary>>, _depth), do: {:error, {:unexpected_byte, c}}

  defp object(<<?}, rest::binary>>, _depth, acc) when acc == %{}, do: {:ok, acc, rest}

  defp object(<<?", rest::binary>>, depth, acc) do
    with {:ok, key, rest} <- string(rest, []),
         <<?:, rest::binary>> <- skip_ws(rest),
         {:ok, val, rest} <- value(skip_ws(rest), depth) do
      acc = Map.put(acc, key, val)

      case skip_ws(rest) do
        <<?,, rest::binary>> -> object_key(skip_ws(rest), depth, acc)
        <<?}, rest::binary>> -> {:ok, acc, rest}
        other -> unexpected(other)
      end
    else
      {:error, _} = error -> error
      other -> unexpected(other)
    end
  end

  defp object(other, _depth, _acc), do: unexpected(other)

  defp object_key(<<?", _::binary>> = bin, depth, acc), do: object(bin, depth, acc)
  defp object_key(other, _depth, _acc), do: unexpected(other)

  defp array(<<?], rest::binary>>, _depth, []), do: {:ok, [], rest}

  defp array(bin, depth, acc) do
    with {:ok, val, rest} <- value(bin, depth) do
      case skip_ws(rest) do
        <<?,, rest::binary>> -> array(skip_ws(rest), depth, [val | acc])
        <<?], rest::binary>> -> {:ok, Enum.reverse([val | acc]), rest}
        other -> unexpected(other)
      end
    end
  end

  defp unexpected(<<>>), do: {:error, :unexpected_end}
  defp unexpected(<<c, _::binary>>), do: {:error, {:unexpected_byte, c}}

  defp string(<<?", rest::binary>>, acc),
    do: {:ok, acc |> Enum.reverse() |> IO.iodata_to_binary(), rest}

  defp string(<<?\\, esc, rest::binary>>, acc) when esc in ~c'"\\/bfnrt' do
    char =
      case esc do
        ?b -> ?\b
        ?f -> ?\f
        ?n -> ?\n
        ?r -> ?\r
        ?t -> ?\t
        other -> other
      end

    string(rest, [char | acc])
  end

  defp string(<<"\\u", a::binary-size(4), "\\u", b::binary-size(4), rest::binary>> = bin, acc) do
    with {:ok, hi} when hi in 0xD800..0xDBFF <- hex4(a),
         {:ok, lo} when lo in 0xDC00..0xDFFF <- hex4(b) do
      cp = 0x10000 + Bitwise.bsl(hi - 0xD800, 10) + (lo - 0xDC00)
      string(rest, [<<cp::utf8>> | acc])
    else
      _ -> single_escape(bin, acc)
    end
  end

  defp string(<<"\\u", _::binary>> = bin, acc), do: single_escape(bin, acc)
  defp string(<<?\\, _::binary>>, _acc), do: {:error, :invalid_escape}
  defp string(<<c, _::binary>>, _acc) when c < 0x20, do: {:error, {:control_character, c}}
  defp string(<<c, rest::binary>>, acc) when c < 0x80, do: string(rest, [c | acc])
  defp string(<<cp::utf8, rest::binary>>, acc), do: string(rest, [<<cp::utf8>> | acc])
  defp string(<<>>, _acc), do: {:error, :unexpected_end}
  defp string(_bin, _acc), do: {:error, :invalid_utf8}

  defp single_escape(<<"\\u", hex::binary-size(4), rest::binary>>, acc) do
    case hex4(hex) do
      {:ok, cp} when cp in 0xD800..0xDFFF -> {:error, :lone_surrogate}
      {:ok, cp} -> string(rest, [<<cp::utf8>> | acc])
      :error -> {:error, :invalid_escape}
    end
  end

  defp single_escape(_bin, _acc), do: {:error, :invalid_escape}

  defp hex4(hex) do
    if hex =~ ~r/\A[0-9a-fA-F]{4}\z/ do
      {:ok, String.to_integer(hex, 16)}
    else
      :error
    end
  end

  defp number(bin) do
    case Regex.run(~r/\A-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/, bin) do
      [text | parts] ->
        rest = binary_part(bin, byte_size(text), byte_size(bin) - byte_size(text))

        case to_number(text, parts) do
          :error -> {:error, :number_out_of_range}
          number -> {:ok, number, rest}
        end

      nil ->
        {:error, :invalid_number}
    end
  end

  defp to_number(text, []), do: String.to_integer(text)

  defp to_number(text, [frac | _] = parts) do
    # "1e5" has no fraction: Float.parse needs one.
    text =
      if frac == "" and length(parts) == 2, do: String.replace(text, ~r/[eE]/, ".0e"), else: text

    case Float.parse(text) do
      {float, ""} -> float
      _ -> :error
    end
  end
end
