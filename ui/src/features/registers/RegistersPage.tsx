/** The registers (GET /api/records): every declared register, with the rows I may see. */
import { api } from '../../api.ts';
import { useApi } from '../../data.tsx';
import { useI18n } from '../../i18n.tsx';
import { Link } from '../../router.tsx';
import { Empty, ErrorBox, PageHeader } from '../../components/common.tsx';
import type { RegisterSummary } from './types.ts';
import './registers.css';

export function RegistersPage() {
  const { pick, text } = useI18n();
  const { data, error, loading } = useApi('registers', (signal) =>
    api<{ registers: RegisterSummary[] }>('GET', '/api/records', undefined, { signal }),
  );
  const registers = [...(data?.registers ?? [])].sort((a, b) => text(a.title).localeCompare(text(b.title)));
  return (
    <section className="page registers">
      <PageHeader title={pick({ zh: '登记册', en: 'Registers' })} />
      <p className="muted">
        {pick({
          zh: '流程写入的记录簿（借阅登记、透露登记等），只显示您可见客户的记录。',
          en: 'The record books the procedures keep (lending log, disclosure log, …): rows of the clients you may see.',
        })}
      </p>
      {error && <ErrorBox error={error} />}
      {!loading && !error && !registers.length && (
        <Empty>{pick({ zh: '没有登记册。', en: 'No registers.' })}</Empty>
      )}
      {registers.length > 0 && (
        <div className="table-wrap">
          <table className="grid" aria-label={pick({ zh: '登记册', en: 'Registers' })}>
            <thead>
              <tr>
                <th scope="col">{pick({ zh: '登记册', en: 'Register' })}</th>
                <th scope="col">{pick({ zh: '流程', en: 'Procedures' })}</th>
                <th scope="col" className="num">
                  {pick({ zh: '记录数', en: 'Rows' })}
                </th>
              </tr>
            </thead>
            <tbody>
              {registers.map((r) => (
                <tr key={r.name}>
                  <td>
                    <Link to={`/registers/${r.name}`} className="cell-title">
                      {text(r.title)}
                    </Link>
                    <div className="cell-sub mono">{r.name}</div>
                  </td>
                  <td className="mono">{r.procedures.join(', ')}</td>
                  <td className="num" data-register-count={r.name}>
                    {r.count}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
