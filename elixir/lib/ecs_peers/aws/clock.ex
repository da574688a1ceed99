defmodule EcsPeers.AWS.Clock do
  @moduledoc """
  The clock requests are signed with: the local UTC clock plus an offset learnt from AWS.

  SigV4 signatures carry the time they were made, and AWS refuses a request signed more
  than 5 minutes away from its own clock. As the AWS SDKs do, the offset is corrected
  from the `Date` header of an answer when that header is 5 minutes or more away from
  the corrected clock; a request refused for its time (`skew_error?/1`) is then retried
  once (see `EcsPeers.AWS.Request`), and the offset is kept for every later request.
  """

  # AWS's tolerance; a smaller difference is left alone (the Date header has 1 s resolution).
  @skew_threshold_ms 5 * 60 * 1000

  # The error codes AWS answers a request signed at the wrong time with (the set the AWS
  # SDKs treat as possible clock skew). Which one depends on the service and the protocol:
  # SSM says InvalidSignatureException ("Signature expired: ..."), S3 RequestTimeTooSkewed.
  @skew_codes [
    "RequestTimeTooSkewed",
    "RequestExpired",
    "RequestInTheFuture",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "AuthFailure"
  ]

  @typedoc "Milliseconds to add to the local clock."
  @type offset :: integer()

  @doc "The corrected time: the local UTC clock (or `local`, for tests) plus `offset` ms."
  @spec now(offset(), DateTime.t() | nil) :: DateTime.t()
  def now(offset, local \\ nil),
    do: DateTime.add(local || DateTime.utc_now(), offset, :millisecond)

  @doc """
  Whether an error may come from a skewed clock. Only a hint: a wrong secret answers
  `SignatureDoesNotMatch` too, which is why the offset is changed only when the answer's
  `Date` header shows the skew (`offset_from/3`).
  """
  @spec skew_error?(term()) :: boolean()
  def skew_error?({:aws_error, _status, type, _message}) when type in @skew_codes, do: true
  def skew_error?(_), do: false

  @doc """
  The offset to use after an answer with these headers: `{:corrected, new}` when its
  `Date` header is #{div(@skew_threshold_ms, 60_000)} minutes or more away from the
  corrected clock, else `:unchanged` (no Date header, one that does not parse, or a small
  difference).
  """
  @spec offset_from([{String.t(), String.t()}], offset(), DateTime.t() | nil) ::
          {:corrected, offset()} | :unchanged
  def offset_from(headers, offset, local \\ nil) do
    local = local || DateTime.utc_now()

    with {:ok, server} <- date_header(headers),
         new = DateTime.diff(server, local, :millisecond),
         true <- abs(new - offset) >= @skew_threshold_ms do
      {:corrected, new}
    else
      _ -> :unchanged
    end
  end

  defp date_header(headers) do
    case Enum.find(headers, fn {name, _} -> String.downcase(name) == "date" end) do
      {_, value} -> parse_http_date(value)
      nil -> :error
    end
  end

  @doc false
  # An HTTP date (RFC 7231: IMF-fixdate, and the obsolete RFC 850 and asctime forms).
  @spec parse_http_date(String.t()) :: {:ok, DateTime.t()} | :error
  def parse_http_date(value) when is_binary(value) do
    with {{_, _, _}, {_, _, _}} = erl <-
           :httpd_util.convert_request_date(String.to_charlist(String.trim(value))),
         {:ok, naive} <- NaiveDateTime.from_erl(erl) do
      {:ok, DateTime.from_naive!(naive, "Etc/UTC")}
    else
      _ -> :error
    end
  catch
    _, _ -> :error
  end
end
