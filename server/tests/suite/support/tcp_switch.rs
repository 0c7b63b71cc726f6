//! A TCP proxy that can be switched off (every connection dropped) and on again on the same
//! port: how tests take Postgres or AWS away and bring it back.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::Mutex, task::JoinHandle};

/// A TCP proxy that can be switched off (every connection dropped) and on again, same port.
pub struct Switch {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    /// How long each connection waits before it reaches upstream (a slow network).
    delay: Duration,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Switch {
    pub async fn start(upstream: SocketAddr) -> Self {
        Self::slow(upstream, Duration::ZERO).await
    }

    /// A proxy where every connection waits `delay` before it reaches upstream.
    pub async fn slow(upstream: SocketAddr, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let switch = Switch {
            addr,
            upstream,
            delay,
            tasks: Arc::default(),
        };
        switch.serve(listener).await;
        switch
    }

    async fn serve(&self, listener: TcpListener) {
        let (upstream, tasks, delay) = (self.upstream, self.tasks.clone(), self.delay);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().await.push(conn);
            }
        });
        self.tasks.lock().await.push(accept);
    }

    pub async fn off(&self) {
        for task in self.tasks.lock().await.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn on(&self) {
        self.serve(TcpListener::bind(self.addr).await.unwrap())
            .await;
    }
}
