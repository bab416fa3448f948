import { IoError, XmlSyntaxError } from '../errors.js';
import { NotRegularFileError, readRegularFileOrStdin } from '../fs/regular-file.js';
import { decodeJsonBytes, decodeXmlBytes } from '../xml/decode.js';

/** Whether an input file is a JSON instance description: its name ends in `.json`, in any case. */
export function isJsonInstancePath(file: string): boolean {
  return /\.json$/i.test(file);
}

/**
 * The text of an input file (instance.xml, a JSON description, a stub, an earlier
 * libvirt.xml), decoded as {@link decodeXmlBytes} / {@link decodeJsonBytes} do. Only a
 * regular file is read — a FIFO or device would keep the read waiting forever — or
 * standard input when it is named `-` or `/dev/stdin`.
 */
export async function readInputText(file: string, what: string, kind: 'xml' | 'json' = 'xml'): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFileOrStdin(file);
  } catch (e) {
    if (e instanceof NotRegularFileError) {
      const why = e.mayBlock ? ' (reading it could wait forever; give a pipe as - or /dev/stdin)' : '';
      throw new IoError(`cannot read ${what}: ${e.message}${why}`, { file, cause: e });
    }
    throw new IoError(`cannot read ${what}: ${(e as Error).message}`, { file, cause: e });
  }
  return kind === 'json' ? decodeJsonBytes(bytes, file) : decodeXmlBytes(bytes, file);
}

/** An XML syntax error in a file that starts with `{` says the file looks like JSON. */
export function withJsonHint(e: unknown, text: string): unknown {
  if (!(e instanceof XmlSyntaxError) || !/^\s*\{/.test(text) || e.shortMessage.includes('looks like JSON')) return e;
  return new XmlSyntaxError(`${e.shortMessage} (looks like JSON: name it .json)`, { file: e.file, line: e.line, column: e.column, path: e.path, cause: e });
}
